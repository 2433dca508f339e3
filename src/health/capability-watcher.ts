import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { HealthSettings } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Orm } from '../db/orm.js';
import { parsedJson } from '../db/raw-values.js';
import type { Logger } from '../logger.js';
import {
  type HttpTarget,
  McpInspectionError,
  openWatchSession,
  type WatchedList,
  type WatchSession,
} from '../mcp/mcp-client.js';
import { refreshCapabilities } from '../registry/capabilities.js';
import { TransportType } from '../registry/registry.enums.js';
import { type ClaimedRow, claimedColumns, claimedServer } from './claimed-server.js';
import type { ProbeTarget } from './probe.js';

/**
 * Servers worth a watch session: reached over HTTP, read from the server (not declared), announcing changes
 * of some list, not in maintenance. `s` is `mcp_servers`.
 */
const WATCHABLE = `s.transport_type in ('${TransportType.STREAMABLE_HTTP}', '${TransportType.SSE}')
  and s.capabilities_discovered
  and s.health_status <> 'maintenance'
  and (s.capabilities @> '{"tools": {"listChanged": true}}'
       or s.capabilities @> '{"resources": {"listChanged": true}}'
       or s.capabilities @> '{"prompts": {"listChanged": true}}')`;

// A failed watch waits retryMs, then twice that, ... up to this many times retryMs.
const MAX_BACKOFF_FACTOR = 64;

interface LeasedRow extends ClaimedRow {
  failures: number;
}

/** One server this instance holds the lease of: connecting, then watched. */
interface Watch {
  readonly serverId: string;
  readonly target: ProbeTarget;
  /** What the session was opened with; a renewal that finds something else ends the watch. */
  readonly fingerprint: string;
  readonly failures: number;
  session: WatchSession | null;
  openedAt: number | null;
  ended: boolean;
  connecting: Promise<void> | null;
  refreshing: Promise<void> | null;
  refreshQueued: boolean;
}

/**
 * Holds long-lived MCP sessions to servers that announce `listChanged` and reads a server's capabilities
 * again (`refreshCapabilities`) as soon as it says a list changed, and once when a session opens (changes
 * made while nobody watched). Runs wherever the health checker runs.
 *
 * Several instances share the fleet through leases (`capability_watch_leases`): an instance claims servers
 * without a live lease in one statement (`FOR UPDATE ... SKIP LOCKED` over the servers, then an insert that
 * takes a lease only if it is still free), up to `maxSessions` per instance, and renews its leases every
 * third of their length. A lease it fails to renew (taken over, server deleted or no longer watchable) closes
 * that session; an instance that stops renewing (it died) loses its leases when they expire and another one
 * takes them over. A session that fails to open or is lost keeps its lease row with an expiry in the future
 * (`retryMs`, doubled with every failure in a row): nobody in the fleet tries that server again before.
 */
export class CapabilityWatcher {
  /** This instance in the lease table (and in logs). */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly watches = new Map<string, Watch>();
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private lastRenewedAt = Date.now();
  private stopped = false;

  constructor(
    private readonly orm: Orm,
    private readonly settings: HealthSettings,
    private readonly log: Logger,
    private readonly keyring: Keyring,
  ) {}

  private get renewEveryMs(): number {
    return Math.floor(this.settings.capabilityWatch.leaseMs / 3);
  }

  start(): void {
    this.log.info(
      { owner: this.owner, maxSessions: this.settings.capabilityWatch.maxSessions },
      'capability watcher running',
    );
    this.timer = setInterval(
      () => {
        this.round ??= this.runRound()
          .catch((error: unknown) => this.log.error({ err: error }, 'capability watch round failed'))
          .finally(() => {
            this.round = undefined;
          });
      },
      Math.min(this.renewEveryMs, 1000),
    );
    this.timer.unref();
  }

  /** Server ids with an open watch session on this instance. */
  watchedServers(): string[] {
    return [...this.watches.values()]
      .filter((watch) => watch.session !== null)
      .map((watch) => watch.serverId);
  }

  /** Closes every session and releases their leases, so another instance takes them over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.round;
    const watches = [...this.watches.values()];
    this.watches.clear();
    await Promise.allSettled(watches.map((watch) => this.endWatch(watch)));
    await Promise.allSettled(watches.flatMap((watch) => [watch.connecting, watch.refreshing]));
    if (watches.length > 0) {
      await this.orm.em
        .fork()
        .execute(
          'delete from capability_watch_leases where owner = ? and server_id = any(cast(? as uuid[]))',
          [this.owner, uuidArray(watches.map((watch) => watch.serverId))],
        )
        .catch((error: unknown) => this.log.error({ err: error }, 'capability watch leases not released'));
      this.log.info({ owner: this.owner, closed: watches.length }, 'capability watches stopped');
    }
  }

  /** Renews the leases when due, then claims servers up to the limit and starts watching them. */
  async runRound(): Promise<void> {
    if (Date.now() - this.lastRenewedAt >= this.renewEveryMs) await this.renewOrGiveUp();
    const free = this.settings.capabilityWatch.maxSessions - this.watches.size;
    if (free <= 0 || this.stopped) return;
    const rows = await this.claim(free);
    for (const row of rows) this.startWatch(row);
    if (rows.length > 0) {
      this.log.info(
        { owner: this.owner, claimed: rows.length, holding: this.watches.size },
        'capability watches claimed',
      );
    }
  }

  private async renewOrGiveUp(): Promise<void> {
    try {
      await this.renew();
      this.lastRenewedAt = Date.now();
    } catch (error) {
      this.log.error({ err: error }, 'capability watch leases not renewed');
      // Past its lease another instance may watch the same servers: this one stops first.
      if (Date.now() - this.lastRenewedAt < this.settings.capabilityWatch.leaseMs) return;
      const watches = [...this.watches.values()];
      this.watches.clear();
      await Promise.allSettled(watches.map((watch) => this.endWatch(watch)));
      this.log.warn({ closed: watches.length }, 'capability watch leases expired unrenewed: sessions closed');
    }
  }

  private async claim(limit: number): Promise<LeasedRow[]> {
    return this.orm.em.fork().execute(
      `with candidates as (
         select s.id from mcp_servers s
         left join capability_watch_leases l on l.server_id = s.id
         where ${WATCHABLE}
           and (l.server_id is null or l.expires_at <= now())
           and s.id <> all(cast(? as uuid[]))
         order by l.expires_at nulls first, s.id
         limit ?
         for update of s skip locked
       ),
       leased as (
         insert into capability_watch_leases (server_id, owner, expires_at)
         select id, ?, now() + (? * interval '1 millisecond') from candidates
         on conflict (server_id) do update
           set owner = excluded.owner, expires_at = excluded.expires_at, updated_at = now()
           where capability_watch_leases.expires_at <= now()
         returning server_id, failures
       )
       select ${claimedColumns('s')}, leased.failures
       from leased join mcp_servers s on s.id = leased.server_id`,
      [uuidArray([...this.watches.keys()]), limit, this.owner, this.settings.capabilityWatch.leaseMs],
    );
  }

  /**
   * Extends this instance's leases, for servers that are still watchable; a watch whose lease was not
   * extended, or whose server now has another endpoint or other headers, ends (and is claimed again, with
   * what the server has now, if it still qualifies). Sessions open for a whole lease forget past failures.
   */
  private async renew(): Promise<void> {
    const watches = [...this.watches.values()];
    if (watches.length === 0) return;
    const stableSince = Date.now() - this.settings.capabilityWatch.leaseMs;
    const stable = watches.filter((watch) => watch.openedAt !== null && watch.openedAt <= stableSince);
    const rows: ClaimedRow[] = await this.orm.em.fork().execute(
      `update capability_watch_leases l
       set expires_at = now() + (? * interval '1 millisecond'), updated_at = now(),
           failures = case when l.server_id = any(cast(? as uuid[])) then 0 else l.failures end
       from mcp_servers s
       where s.id = l.server_id and l.owner = ? and l.server_id = any(cast(? as uuid[])) and ${WATCHABLE}
       returning ${claimedColumns('s')}`,
      [
        this.settings.capabilityWatch.leaseMs,
        uuidArray(stable.map((watch) => watch.serverId)),
        this.owner,
        uuidArray(watches.map((watch) => watch.serverId)),
      ],
    );
    const renewed = new Map(rows.map((row) => [row.id, row]));
    const ending: Watch[] = [];
    for (const watch of watches) {
      const row = renewed.get(watch.serverId);
      if (row !== undefined && fingerprintOf(row) === watch.fingerprint) continue;
      this.log.info(
        { serverId: watch.serverId },
        row === undefined
          ? 'capability watch stopped: lease lost, or the server was deleted or no longer announces list changes'
          : 'capability watch stopped: the server has another endpoint or other headers',
      );
      this.watches.delete(watch.serverId);
      ending.push(watch);
    }
    await Promise.allSettled(ending.map((watch) => this.endWatch(watch)));
    if (ending.length > 0) {
      await this.orm.em
        .fork()
        .execute(
          'delete from capability_watch_leases where owner = ? and server_id = any(cast(? as uuid[]))',
          [this.owner, uuidArray(ending.map((watch) => watch.serverId))],
        );
    }
  }

  private startWatch(row: LeasedRow): void {
    const claimed = claimedServer(row, this.keyring);
    if (!('target' in claimed)) {
      this.log.warn(
        { serverId: row.id, reason: claimed.unreadable.reason, keyId: claimed.unreadable.keyId },
        'stored connection headers cannot be opened: not watched',
      );
      void this.backOff(row.id, row.failures);
      return;
    }
    const watch: Watch = {
      serverId: row.id,
      target: claimed.target,
      fingerprint: fingerprintOf(row),
      failures: row.failures,
      session: null,
      openedAt: null,
      ended: false,
      connecting: null,
      refreshing: null,
      refreshQueued: false,
    };
    this.watches.set(watch.serverId, watch);
    watch.connecting = this.connect(watch).finally(() => {
      watch.connecting = null;
    });
  }

  private async connect(watch: Watch): Promise<void> {
    const { serverId, target } = watch;
    const transport = target.transportType === TransportType.SSE ? 'sse' : 'streamable_http';
    const httpTarget: HttpTarget = {
      endpointUrl: target.endpointUrl,
      transport,
      headers: target.headers,
      serverId,
    };
    let session: WatchSession;
    try {
      session = await openWatchSession(httpTarget, this.settings.timeoutMs, {
        onChanged: (list) => this.requestRefresh(watch, list),
        onLost: (reason) => void this.lose(watch, reason),
      });
    } catch (error) {
      if (watch.ended) return;
      const failure =
        error instanceof McpInspectionError
          ? { outcome: error.outcome, error: error.message }
          : { outcome: 'internal', err: error };
      this.log.warn(
        { serverId, ...failure, failures: watch.failures + 1 },
        'capability watch session could not be opened',
      );
      this.watches.delete(serverId);
      await this.backOff(serverId, watch.failures);
      return;
    }
    if (watch.ended) {
      await session.close();
      return;
    }
    watch.session = session;
    watch.openedAt = Date.now();
    this.log.info(
      { serverId, transport, protocolVersion: session.protocolVersion, lists: session.lists },
      'watching server for list changes',
    );
    this.requestRefresh(watch, 'connected');
  }

  /** The session ended on the server's side: release the lease, with a backoff, so it is tried again. */
  private async lose(watch: Watch, reason: string): Promise<void> {
    if (watch.ended) return;
    this.log.warn({ serverId: watch.serverId, reason }, 'capability watch session lost');
    this.watches.delete(watch.serverId);
    await this.endWatch(watch);
    if (!this.stopped) await this.backOff(watch.serverId, watch.failures);
  }

  private async endWatch(watch: Watch): Promise<void> {
    watch.ended = true;
    await watch.session?.close();
  }

  /** Keeps the lease row, expiring after the backoff: nobody in the fleet tries the server before. */
  private async backOff(serverId: string, failures: number): Promise<void> {
    const waitMs = this.settings.capabilityWatch.retryMs * Math.min(2 ** failures, MAX_BACKOFF_FACTOR);
    await this.orm.em
      .fork()
      .execute(
        `update capability_watch_leases
         set failures = failures + 1, expires_at = now() + (? * interval '1 millisecond'), updated_at = now()
         where server_id = ? and owner = ?`,
        [waitMs, serverId, this.owner],
      )
      .catch((error: unknown) =>
        this.log.error({ err: error, serverId }, 'capability watch backoff not recorded'),
      );
  }

  /** One refresh in flight per server, and at most one more queued behind it, whatever the burst. */
  private requestRefresh(watch: Watch, reason: WatchedList | 'connected'): void {
    if (watch.refreshing !== null) {
      watch.refreshQueued = true;
      return;
    }
    watch.refreshing = this.refreshWhileQueued(watch, reason).finally(() => {
      watch.refreshing = null;
    });
  }

  private async refreshWhileQueued(watch: Watch, reason: WatchedList | 'connected'): Promise<void> {
    let cause: string = reason;
    do {
      watch.refreshQueued = false;
      try {
        const refreshed = await refreshCapabilities(
          this.orm.em.fork(),
          watch.serverId,
          watch.target,
          this.settings,
        );
        this.log.info(
          { serverId: watch.serverId, cause, refreshed },
          refreshed ? 'capabilities refreshed by the watcher' : 'capabilities could not be refreshed',
        );
      } catch (error) {
        this.log.error({ err: error, serverId: watch.serverId }, 'capability refresh failed');
      }
      cause = 'queued change';
    } while (watch.refreshQueued && !watch.ended);
  }
}

/** A PostgreSQL array literal of uuids, bound as one parameter (an empty list included). */
function uuidArray(ids: readonly string[]): string {
  return `{${ids.join(',')}}`;
}

function fingerprintOf(row: ClaimedRow): string {
  return JSON.stringify([row.endpoint_url, row.transport_type, parsedJson(row.connection_headers)]);
}
