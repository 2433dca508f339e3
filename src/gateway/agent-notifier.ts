import type { McpHttpHandler, Server } from '@modelcontextprotocol/server';
import { backgroundFork, type Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { closeIterable, consume } from '../pubsub/iterables.js';
import type { TypedPubSub } from '../pubsub/pubsub.js';
import { VirtualServerMember } from '../virtual/virtual-server-member.entity.js';
import { CATALOG_CHANGED, type CatalogChange, type CatalogList } from './catalog-changes.js';

/** The agents listening on this instance for one virtual server's changes. */
interface Listeners {
  /** 2025-era sessions' standing GET streams, each served by its own SDK server. */
  readonly streams: Set<Server>;
  /** The 2026-07-28 handler, whose `subscriptions/listen` streams hear `notify`. */
  handler: McpHttpHandler | null;
  /** The virtual server's member servers, to tell which server changes concern it. */
  memberServerIds: Promise<ReadonlySet<string>>;
}

/**
 * Tells agents connected to this instance that a virtual server's lists changed, whichever instance made the
 * change (the event bus carries CatalogChange events to all). 2025-era sessions get
 * `notifications/{tools,resources,prompts}/list_changed` for the lists that changed on their GET stream;
 * 2026-07-28 `subscriptions/listen` streams get the same through the SDK's handler.
 */
export class AgentNotifier {
  private readonly listeners = new Map<string, Listeners>();
  private readonly changes: AsyncIterable<CatalogChange>;

  constructor(
    private readonly orm: Orm,
    pubSub: TypedPubSub,
    private readonly log: Logger,
  ) {
    this.changes = pubSub.subscribe(CATALOG_CHANGED);
    void consume(this.changes, (change) => this.deliver(change));
  }

  /** The 2026-07-28 handler of a virtual server, created on first use. */
  handlerOf(virtualServerId: string, create: () => McpHttpHandler): McpHttpHandler {
    const listeners = this.listenersOf(virtualServerId);
    listeners.handler ??= create();
    return listeners.handler;
  }

  /** Registers a 2025-era standing stream; the returned function removes it (when the stream closes). */
  addStream(virtualServerId: string, server: Server): () => void {
    const listeners = this.listenersOf(virtualServerId);
    listeners.streams.add(server);
    return () => {
      listeners.streams.delete(server);
    };
  }

  async close(): Promise<void> {
    await closeIterable(this.changes);
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.allSettled(
      all.flatMap((listeners) => [
        ...[...listeners.streams].map((server) => server.close()),
        listeners.handler?.close(),
      ]),
    );
  }

  private listenersOf(virtualServerId: string): Listeners {
    let listeners = this.listeners.get(virtualServerId);
    if (listeners === undefined) {
      listeners = {
        streams: new Set(),
        handler: null,
        memberServerIds: this.loadMembers(virtualServerId),
      };
      this.listeners.set(virtualServerId, listeners);
    }
    return listeners;
  }

  private async deliver(change: CatalogChange): Promise<void> {
    for (const [virtualServerId, listeners] of this.listeners) {
      const named = change.virtualServerIds.includes(virtualServerId);
      if (named) listeners.memberServerIds = this.loadMembers(virtualServerId);
      const members = await listeners.memberServerIds;
      if (named || change.serverIds.some((serverId) => members.has(serverId))) {
        this.notify(listeners, change.lists);
      }
      // A deleted virtual server has no members left: forget it once nobody listens on it.
      if (named && members.size === 0 && listeners.streams.size === 0) {
        this.listeners.delete(virtualServerId);
        void listeners.handler?.close();
      }
    }
  }

  /** Only the lists that changed: an agent told of a change lists again. */
  private notify(listeners: Listeners, lists: readonly CatalogList[]): void {
    const notify = listeners.handler?.notify;
    for (const list of lists) {
      if (list === 'tools') notify?.toolsChanged();
      else if (list === 'resources') notify?.resourcesChanged();
      else notify?.promptsChanged();
    }
    for (const server of listeners.streams) {
      const sent = lists.map((list) =>
        list === 'tools'
          ? server.sendToolListChanged()
          : list === 'resources'
            ? server.sendResourceListChanged()
            : server.sendPromptListChanged(),
      );
      // A stream that has just closed refuses: nothing to tell it any more.
      void Promise.allSettled(sent);
    }
  }

  private async loadMembers(virtualServerId: string): Promise<ReadonlySet<string>> {
    try {
      const em = backgroundFork(this.orm.em, 'agent-notifier');
      const members = await em.find(
        VirtualServerMember,
        { virtualServer: virtualServerId },
        { fields: ['server'] },
      );
      return new Set(members.map((member) => member.server.id));
    } catch (error) {
      this.log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'virtual server members not loaded',
      );
      return new Set();
    }
  }
}
