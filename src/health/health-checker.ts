import type { HealthSettings } from '../config.js';
import type { Keyring, SealedValueError } from '../crypto/keyring.js';
import { claimDue } from '../db/claim-due.js';
import type { Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventPublisher } from '../pubsub/pubsub.js';
import { refreshCapabilities } from '../registry/capabilities.js';
import { unreadableHeadersMessage } from '../registry/connection-headers.js';
import { type Claimed, type ClaimedRow, claimedColumns, claimedServer } from './claimed-server.js';
import { HealthCheck, type ProbeOutcome } from './health-check.entity.js';
import { checkServer, probedTransports, recordUncontactedServer } from './probe.js';

const PRUNE_EVERY_MS = 60 * 60 * 1000;

/** Which servers a claim takes, in what order, and how it moves them ahead (`?`: parameters of `claim`). */
interface ClaimQuery {
  readonly where: string;
  readonly orderBy: string;
  readonly set: string;
}

const DUE_FOR_PROBE: ClaimQuery = {
  where: "next_check_at <= now() and health_status <> 'maintenance'",
  orderBy: 'next_check_at',
  set: "next_check_at = now() + (? * interval '1 millisecond')",
};

const DUE_FOR_REFRESH: ClaimQuery = {
  where: "capabilities_discovered and capabilities_refreshed_at <= now() - (? * interval '1 millisecond')",
  orderBy: 'capabilities_refreshed_at',
  set: 'capabilities_refreshed_at = now()',
};

/**
 * Probes every server it can talk to (STDIO ones only with `ALLOW_STDIO=true`, WEBSOCKET ones never) once
 * per interval across the whole fleet: each instance claims due servers with `FOR UPDATE SKIP LOCKED` and
 * moves their next check one interval ahead in the same statement, so two instances never probe the same
 * server in the same interval. Results update the server, its circuit
 * breaker and its history in one transaction; changes are published on the event bus. Capabilities read from
 * servers are read again on their own, slower schedule.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPrunedAt = 0;

  constructor(
    private readonly orm: Orm,
    private readonly settings: HealthSettings,
    private readonly pubSub: EventPublisher,
    private readonly log: Logger,
    private readonly keyring: Keyring,
    private readonly metrics?: Pick<Metrics, 'healthProbes'>,
  ) {}

  start(): void {
    const tickMs = Math.min(this.settings.intervalMs, 1000);
    this.timer = setInterval(() => {
      this.running ??= this.runDueChecks()
        .then(() => undefined)
        .catch((error: unknown) => this.log.error({ err: error }, 'health check round failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, tickMs);
    this.timer.unref();
  }

  /** Stops scheduling and waits for the probes in flight. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Claims and probes due servers, batch after batch, until none is due. Returns how many were probed. */
  async runDueChecks(): Promise<number> {
    let probed = 0;
    for (;;) {
      const claimed = await this.claim(DUE_FOR_PROBE, { set: [this.settings.intervalMs] });
      await this.settleAll(
        claimed.map(async (server) => {
          const em = this.orm.em.fork();
          let outcome: ProbeOutcome;
          if ('target' in server) outcome = await checkServer(em, this.pubSub, this.settings, server.target);
          else {
            this.logUnreadable(server.serverId, server.unreadable, 'not probed: recorded as a failed probe');
            const reason = unreadableHeadersMessage(server.unreadable);
            outcome = await recordUncontactedServer(em, this.pubSub, this.settings, server.serverId, reason);
          }
          this.metrics?.healthProbes.inc({ outcome });
        }),
        'health check failed',
      );
      probed += claimed.length;
      if (claimed.length < this.settings.concurrency) break;
    }
    await this.refreshDueCapabilities();
    await this.pruneHistory();
    return probed;
  }

  /**
   * Reads again the capabilities of servers whose last reading is older than the refresh interval, claimed
   * the same way as probes so the fleet refreshes each server once. Returns how many were refreshed.
   */
  async refreshDueCapabilities(): Promise<number> {
    const claimed = await this.claim(DUE_FOR_REFRESH, { where: [this.settings.capabilityRefreshIntervalMs] });
    const refreshed = await this.settleAll(
      claimed.map(async (server) => {
        if ('target' in server) {
          return refreshCapabilities(this.orm.em.fork(), server.serverId, server.target, this.settings);
        }
        this.logUnreadable(server.serverId, server.unreadable, 'capabilities not refreshed');
        return false;
      }),
      'capability refresh failed',
    );
    return refreshed.filter(Boolean).length;
  }

  /** The server was not contacted: a request without its credentials is never sent. */
  private logUnreadable(serverId: string, error: SealedValueError, consequence: string): void {
    this.log.warn(
      { serverId, reason: error.reason, keyId: error.keyId },
      `stored connection headers cannot be opened: ${consequence}`,
    );
  }

  /** Claims up to `concurrency` servers that `due` selects, moving them out of reach of other instances. */
  private async claim(
    due: ClaimQuery,
    params: { readonly where?: readonly number[]; readonly set?: readonly number[] },
  ): Promise<Claimed[]> {
    const rows = await claimDue<ClaimedRow>(
      this.orm.em.fork(),
      {
        table: 'mcp_servers',
        where: `transport_type in (?) and ${due.where}`,
        orderBy: due.orderBy,
        set: due.set,
        returning: claimedColumns('claimed'),
      },
      {
        where: [probedTransports(this.settings.allowStdio), ...(params.where ?? [])],
        limit: this.settings.concurrency,
        set: params.set ?? [],
      },
    );
    return rows.map((row) => claimedServer(row, this.keyring));
  }

  /** Waits for all; one server's failure (a database error) must not cost the others their results. */
  private async settleAll<T>(work: Promise<T>[], message: string): Promise<T[]> {
    const results = await Promise.allSettled(work);
    const done: T[] = [];
    for (const result of results) {
      if (result.status === 'fulfilled') done.push(result.value);
      else this.log.error({ err: result.reason }, message);
    }
    return done;
  }

  private async pruneHistory(): Promise<void> {
    if (Date.now() - this.lastPrunedAt < PRUNE_EVERY_MS) return;
    this.lastPrunedAt = Date.now();
    const deleted = await this.orm.em.fork().nativeDelete(HealthCheck, {
      checkedAt: { $lt: new Date(Date.now() - this.settings.historyDays * 86_400_000) },
    });
    if (deleted > 0) this.log.info({ deleted }, 'pruned old health checks');
  }
}
