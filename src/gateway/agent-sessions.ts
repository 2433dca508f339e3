import type { Ref } from '@mikro-orm/core';
import { ApiKey } from '../auth/api-key.entity.js';
import { isUuid } from '../graphql/validate.js';
import { User } from '../users/user.entity.js';
import { VirtualServer } from '../virtual/virtual-server.entity.js';
import type { AgentRequest } from './agent-request.js';
import { AgentSession } from './agent-session.entity.js';

// The stored 2025-era sessions: opened at `initialize`, found by every later request on any instance, ended by
// DELETE or after a day without use.

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

export async function openAgentSession(
  agent: AgentRequest,
  protocolVersion: string,
  clientName: string | null,
): Promise<string> {
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
export async function findAgentSession(
  agent: AgentRequest,
  sessionId: string,
  now = new Date(),
): Promise<AgentSession | null> {
  if (!isUuid(sessionId)) return null;
  const { em } = agent;
  const session = await em.findOne(AgentSession, {
    id: sessionId,
    virtualServer: agent.virtualServer.id,
    ...ownerCondition(agent),
  });
  if (session === null) return null;
  const idleMs = now.getTime() - session.lastSeenAt.getTime();
  if (idleMs > SESSION_IDLE_MS) {
    await em.remove(session).flush();
    return null;
  }
  if (idleMs > TOUCH_INTERVAL_MS) {
    await em.nativeUpdate(AgentSession, { id: session.id }, { lastSeenAt: now });
  }
  return session;
}

/** Ends the session (DELETE); false when there was none to end. */
export async function endAgentSession(agent: AgentRequest, sessionId: string): Promise<boolean> {
  if (!isUuid(sessionId)) return false;
  const removed = await agent.em.nativeDelete(AgentSession, {
    id: sessionId,
    virtualServer: agent.virtualServer.id,
    ...ownerCondition(agent),
  });
  return removed > 0;
}
