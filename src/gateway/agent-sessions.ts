import type { Ref } from '@mikro-orm/core';
import { ApiKey } from '../auth/api-key.entity.js';
import { isUuid } from '../graphql/validate.js';
import type { Coherence } from '../pubsub/coherence.js';
import { CoherentCache } from '../pubsub/coherent-cache.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { User } from '../users/user.entity.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';
import type { AgentRequest } from './agent-request.js';
import { AgentSession } from './agent-session.entity.js';

// The stored 2025-era sessions: opened at `initialize`, found by every later request on any instance, ended by
// DELETE or after a day without use. A session found once is kept by the instance (what it records never
// changes but its last use); an ended one is announced on the event bus, so no instance serves it again.

/** A session unused this long is gone: its next request gets 404 and the agent initializes again. */
export const SESSION_IDLE_MS = 24 * 60 * 60 * 1000;
/** Last use is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60 * 1000;

/** Who opens a session: the agent's key, or the user of its access token. */
function openerOf(agent: AgentRequest): { apiKey: Ref<ApiKey> } | { user: Ref<User> } {
  const { em, viewer } = agent;
  if (viewer.apiKeyId !== null)
    return { apiKey: em.getReference(ApiKey, viewer.apiKeyId, { wrapped: true }) };
  if (viewer.userId === null) throw new Error('a viewer with neither a key nor a user');
  return { user: em.getReference(User, viewer.userId, { wrapped: true }) };
}

/** Only the session's own key, or its own user's tokens, find it. */
function ownerCondition(agent: AgentRequest): { apiKey: string } | { apiKey: null; user: string | null } {
  const { viewer } = agent;
  return viewer.apiKeyId !== null ? { apiKey: viewer.apiKeyId } : { apiKey: null, user: viewer.userId };
}

export const AGENT_SESSION_ENDED = 'gateway.agent-session-ended';

declare module '../pubsub/event-topics.js' {
  interface EventTopics {
    [AGENT_SESSION_ENDED]: { readonly sessionId: string };
  }
}

/** A session as its requests need it. */
export interface KnownSession {
  readonly id: string;
  readonly virtualServerId: string;
  readonly apiKeyId: string | null;
  readonly userId: string | null;
  readonly lastSeenAt: Date;
}

/** The in-memory form of `ownerCondition`: a kept session is served to its own opener only. */
function isOwnedBy(session: KnownSession, agent: AgentRequest): boolean {
  const { viewer } = agent;
  if (session.virtualServerId !== agent.virtualServer.id) return false;
  return viewer.apiKeyId !== null
    ? session.apiKeyId === viewer.apiKeyId
    : session.apiKeyId === null && session.userId === viewer.userId;
}

export class AgentSessions {
  private readonly known: CoherentCache<KnownSession>;

  constructor(
    private readonly coherence: Coherence,
    private readonly bus: EventPublisher,
  ) {
    this.known = new CoherentCache(coherence, { maxEntries: 10_000, ttlMs: 5 * 60_000 });
    coherence.watch(AGENT_SESSION_ENDED, ({ sessionId }) =>
      this.known.invalidate((_session, id) => id === sessionId),
    );
  }

  async open(agent: AgentRequest, protocolVersion: string, clientName: string | null): Promise<string> {
    const { em } = agent;
    const session = new AgentSession(
      em.getReference(VirtualServer, agent.virtualServer.id, { wrapped: true }),
      openerOf(agent),
      protocolVersion,
    );
    session.clientName = clientName?.slice(0, 255) ?? null;
    await em.persist(session).flush();
    return session.id;
  }

  /** The session, when it is this virtual server's and this key's and still in use; null otherwise. */
  async find(agent: AgentRequest, sessionId: string, now = new Date()): Promise<KnownSession | null> {
    if (!isUuid(sessionId)) return null;
    const session = this.known.get(sessionId) ?? (await this.read(agent, sessionId));
    if (session === null || !isOwnedBy(session, agent)) return null;
    const idleMs = now.getTime() - session.lastSeenAt.getTime();
    if (idleMs > SESSION_IDLE_MS) {
      await this.end(agent, session.id);
      return null;
    }
    if (idleMs > TOUCH_INTERVAL_MS) {
      const ticket = this.known.ticket();
      await agent.em.nativeUpdate(AgentSession, { id: session.id }, { lastSeenAt: now });
      this.known.set(session.id, { ...session, lastSeenAt: now }, ticket);
    }
    return session;
  }

  /** Ends the session (DELETE, or unused too long) on every instance; false when there was none to end. */
  async end(agent: AgentRequest, sessionId: string): Promise<boolean> {
    if (!isUuid(sessionId)) return false;
    const removed = await agent.em.nativeDelete(AgentSession, {
      id: sessionId,
      virtualServer: agent.virtualServer.id,
      ...ownerCondition(agent),
    });
    if (removed === 0) return false;
    this.bus.publish(AGENT_SESSION_ENDED, { sessionId });
    // Ended means ended on every instance once the agent hears so.
    await this.coherence.settled();
    return true;
  }

  private async read(agent: AgentRequest, sessionId: string): Promise<KnownSession | null> {
    const ticket = this.known.ticket();
    const session = await agent.em.findOne(AgentSession, {
      id: sessionId,
      virtualServer: agent.virtualServer.id,
      ...ownerCondition(agent),
    });
    if (session === null) return null;
    const known: KnownSession = {
      id: session.id,
      virtualServerId: agent.virtualServer.id,
      apiKeyId: session.apiKey?.id ?? null,
      userId: session.user?.id ?? null,
      lastSeenAt: session.lastSeenAt,
    };
    this.known.set(session.id, known, ticket);
    return known;
  }
}
