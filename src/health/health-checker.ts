import { LockMode } from '@mikro-orm/core';
import type { PubSub } from 'type-graphql';
import type { HealthSettings } from '../config.js';
import type { EntityManager, Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { TransportType } from '../registry/registry.enums.js';
import { recordResult } from './circuit-breaker-machine.js';
import { type CircuitBreakerEvent, HEALTH_TOPICS, type ServerHealthEvent } from './health.events.js';
import { HealthCheck, ProbeOutcome } from './health-check.entity.js';
import { applyProbe, type ProbeResult } from './health-status.js';

/** Where and how to reach a server for a probe. */
export interface ProbeTarget {
  readonly serverId: string;
  readonly endpointUrl: string;
  readonly transportType: TransportType;
  readonly headers: Record<string, string> | null;
}

/** One real MCP exchange with a server; never throws for problems of the server. */
export type ProbeServer = (target: ProbeTarget, timeoutMs: number) => Promise<ProbeResult>;

/** Transports the checker can probe. WEBSOCKET is not an MCP transport; STDIO needs a spawned process. */
const PROBED_TRANSPORTS = [TransportType.STREAMABLE_HTTP, TransportType.SSE];
const PRUNE_EVERY_MS = 60 * 60 * 1000;

interface ClaimedRow {
  id: string;
  endpoint_url: string;
  transport_type: TransportType;
  connection_headers: Record<string, string> | string | null;
}

/**
 * Probes every server once per interval across the whole fleet: each instance claims due servers with
 * `FOR UPDATE SKIP LOCKED` and moves their next check one interval ahead in the same statement, so two
 * instances never probe the same server in the same interval. Results update the server, its circuit
 * breaker and its history in one transaction; changes are published on the event bus.
 */
export class HealthChecker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastPrunedAt = 0;

  constructor(
    private readonly orm: Orm,
    private readonly settings: HealthSettings,
    private readonly probe: ProbeServer,
    private readonly pubSub: PubSub,
    private readonly log: Logger,
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
      const claimed = await this.claimDue(this.settings.concurrency);
      await Promise.all(claimed.map((target) => this.check(target)));
      probed += claimed.length;
      if (claimed.length < this.settings.concurrency) break;
    }
    await this.pruneHistory();
    return probed;
  }

  /** Probes one server now, outside its schedule (checkServerHealth), and returns its updated row. */
  async checkNow(em: EntityManager, server: MCPServer): Promise<void> {
    await em.populate(server, ['connectionHeaders']);
    await this.check({
      serverId: server.id,
      endpointUrl: server.endpointUrl,
      transportType: server.transportType,
      headers: server.connectionHeaders,
    });
    await em.refresh(server);
  }

  private async claimDue(limit: number): Promise<ProbeTarget[]> {
    const rows: ClaimedRow[] = await this.orm.em.fork().execute(
      `with due as (
         select id from mcp_servers
         where next_check_at <= now() and health_status <> 'maintenance' and transport_type in (?)
         order by next_check_at
         limit ?
         for update skip locked
       )
       update mcp_servers s set next_check_at = now() + (? * interval '1 millisecond')
       from due where s.id = due.id
       returning s.id, s.endpoint_url, s.transport_type, s.connection_headers`,
      [PROBED_TRANSPORTS, limit, this.settings.intervalMs],
    );
    return rows.map((row) => ({
      serverId: row.id,
      endpointUrl: row.endpoint_url,
      transportType: row.transport_type,
      headers:
        typeof row.connection_headers === 'string'
          ? JSON.parse(row.connection_headers)
          : row.connection_headers,
    }));
  }

  private async check(target: ProbeTarget): Promise<void> {
    let result: ProbeResult;
    if (PROBED_TRANSPORTS.includes(target.transportType)) {
      result = await this.probe(target, this.settings.timeoutMs);
    } else {
      result = {
        outcome: ProbeOutcome.PROTOCOL_ERROR,
        latencyMs: null,
        protocolVersion: null,
        error: `${target.transportType.toUpperCase()} servers are not probed`,
      };
    }
    const events = await this.record(target.serverId, result);
    for (const event of events.health) this.pubSub.publish(HEALTH_TOPICS.serverHealthChanged, event);
    for (const event of events.circuit) this.pubSub.publish(HEALTH_TOPICS.circuitBreakerChanged, event);
  }

  /** Applies a probe result to the server, its breaker and its history in one transaction. */
  private async record(
    serverId: string,
    result: ProbeResult,
  ): Promise<{ health: ServerHealthEvent[]; circuit: CircuitBreakerEvent[] }> {
    const events = { health: [] as ServerHealthEvent[], circuit: [] as CircuitBreakerEvent[] };
    await this.orm.em.fork().transactional(async (tx) => {
      const server = await tx.findOne(MCPServer, serverId, { lockMode: LockMode.PESSIMISTIC_WRITE });
      if (!server) return; // deleted while it was being probed
      const breaker = await tx.findOne(
        CircuitBreaker,
        { server: serverId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      const now = new Date();
      const previousStatus = server.healthStatus;
      const previousState = breaker?.state ?? null;

      applyProbe(server, result, this.settings);
      server.lastHealthCheckAt = now;
      if (result.protocolVersion !== null) server.protocolVersion = result.protocolVersion;
      if (breaker) recordResult(breaker, result.outcome === ProbeOutcome.OK, now);

      const check = new HealthCheck(
        tx.getReference(MCPServer, serverId, { wrapped: true }),
        server.healthStatus,
        result.outcome,
      );
      Object.assign(check, {
        checkedAt: now,
        responseTimeMs: result.latencyMs,
        protocolVersion: result.protocolVersion,
        error: result.error,
      });
      tx.persist(check);

      const tenantId = server.tenant.id;
      if (server.healthStatus !== previousStatus) {
        server.eventVersion += 1;
        events.health.push({
          serverId,
          tenantId,
          previousStatus,
          status: server.healthStatus,
          responseTimeMs: result.latencyMs,
          error: result.error,
          checkedAt: now,
          version: server.eventVersion,
        });
      }
      if (breaker && breaker.state !== previousState) {
        server.eventVersion += 1;
        events.circuit.push({
          serverId,
          tenantId,
          previousState,
          state: breaker.state,
          failureCount: breaker.failureCount,
          changedAt: now,
          version: server.eventVersion,
        });
      }
    });
    return events;
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
