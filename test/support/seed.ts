import { randomUUID } from 'node:crypto';
import { AuditLog } from '../../src/audit/audit-log.entity.js';
import { RequestLog } from '../../src/audit/request-log.entity.js';
import { ApiKey } from '../../src/auth/api-key.entity.js';
import { issueApiKey } from '../../src/auth/api-key.service.js';
import { loadConfig } from '../../src/config.js';
import type { Orm } from '../../src/db/orm.js';
import { ApiKeyScope } from '../../src/graphql/access.js';
import { HealthCheck, ProbeOutcome } from '../../src/health/health-check.entity.js';
import { CircuitBreaker } from '../../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../../src/registry/mcp-server.entity.js';
import { CircuitBreakerState, ServerStatus, TransportType } from '../../src/registry/registry.enums.js';
import { ServerPrompt } from '../../src/registry/server-prompt.entity.js';
import { ServerResource } from '../../src/registry/server-resource.entity.js';
import { ServerTool } from '../../src/registry/server-tool.entity.js';
import { Tenant } from '../../src/tenants/tenant.entity.js';
import { User, UserRole } from '../../src/users/user.entity.js';

/** Fields a test may set on a key it seeds. */
type KeyChanges = Partial<
  Pick<
    ApiKey,
    'isActive' | 'isLocked' | 'expiresAt' | 'allowedServers' | 'rateLimitPerHour' | 'rateLimitPerDay'
  >
> & {
  /** The user the key is issued to (a user of the key's tenant). */
  readonly userId?: string;
};

/**
 * Rows for tests, written straight through the ORM: `const acme = await seed(orm).tenant('acme')`,
 * then `acme.key()`, `acme.server('search')`.
 */
export function seed(orm: Orm) {
  return {
    async tenant(name: string) {
      const em = orm.em.fork();
      const tenant = new Tenant(name);
      await em.persistAndFlush(tenant);
      return seededTenant(orm, tenant);
    },
    /** The seed kit of a tenant created otherwise (through the API). */
    async tenantById(id: string) {
      return seededTenant(orm, await orm.em.fork().findOneOrFail(Tenant, id));
    },
    /** A platform key (no tenant) with the given scopes. */
    key(scopes: ApiKeyScope[], changes: KeyChanges = {}) {
      return issueKey(orm, null, scopes, changes);
    },
    /**
     * The application logs its own requests (src/audit/request-log-writer.ts). A test that asserts exact
     * figures over seeded request logs calls this first: from then on only rows whose request id starts with
     * `seed-` (those of `requestLogs`) reach request_logs.
     */
    async keepOnlySeededRequestLogs(): Promise<void> {
      const em = orm.em.fork();
      await em.execute(`
        create function keep_seeded_requests() returns trigger language plpgsql as $$
        begin
          if new.request_id like 'seed-%' then return new; end if;
          return null;
        end $$`);
      await em.execute(`
        create trigger keep_seeded_requests before insert on request_logs
        for each row execute function keep_seeded_requests()`);
    },
    /** Request log rows, as the request log writer would store them; request ids start with `seed-`. */
    async requestLogs(specs: readonly RequestLogSpec[]): Promise<RequestLog[]> {
      const em = orm.em.fork();
      const logs = specs.map((spec) => {
        const log = new RequestLog({
          requestId: `seed-${randomUUID()}`,
          method: 'POST',
          path: '/graphql',
          statusCode: spec.statusCode ?? 200,
          durationMs: spec.durationMs,
        });
        return Object.assign(log, {
          tenantId: spec.tenantId ?? null,
          apiKeyId: spec.apiKeyId ?? null,
          operationName: spec.operationName ?? null,
          createdAt: spec.at,
          updatedAt: spec.at,
        });
      });
      await em.persistAndFlush(logs);
      return logs;
    },
    /** Audit entries as audited() writes them (successful unless told otherwise). */
    async auditLogs(specs: readonly AuditLogSpec[]): Promise<AuditLog[]> {
      const em = orm.em.fork();
      const logs = specs.map((spec) => {
        const log = new AuditLog({
          action: spec.action,
          resourceType: spec.resourceType,
          success: spec.success ?? true,
        });
        return Object.assign(log, {
          tenantId: spec.tenantId ?? null,
          userId: spec.userId ?? null,
          resourceId: spec.resourceId ?? null,
          details: spec.details ?? {},
          ipAddress: spec.ipAddress ?? null,
          createdAt: spec.at,
          updatedAt: spec.at,
        });
      });
      await em.persistAndFlush(logs);
      return logs;
    },
  };
}

export interface RequestLogSpec {
  readonly tenantId?: string | null;
  readonly apiKeyId?: string | null;
  readonly operationName?: string | null;
  readonly statusCode?: number;
  readonly durationMs: number;
  readonly at: Date;
}

export interface AuditLogSpec {
  readonly tenantId?: string | null;
  readonly userId?: string | null;
  readonly action: string;
  readonly resourceType: string;
  readonly resourceId?: string | null;
  readonly success?: boolean;
  readonly details?: Record<string, string>;
  readonly ipAddress?: string | null;
  readonly at: Date;
}

function seededTenant(orm: Orm, tenant: Tenant) {
  return {
    id: tenant.id,
    name: tenant.name,
    /** A key of this tenant; READ and WRITE unless told otherwise. */
    key(scopes: ApiKeyScope[] = [ApiKeyScope.READ, ApiKeyScope.WRITE], changes: KeyChanges = {}) {
      return issueKey(orm, tenant.id, scopes, changes);
    },
    /** A user of this tenant (role USER unless told otherwise), with an email made from the username. */
    async user(username: string, changes: Partial<Pick<User, 'role' | 'isActive' | 'authProvider'>> = {}) {
      const em = orm.em.fork();
      const user = new User(username, `${username}@example.test`);
      Object.assign(user, { role: UserRole.USER, ...changes });
      user.tenant = em.getReference(Tenant, tenant.id, { wrapped: true });
      await em.persistAndFlush(user);
      return user;
    },
    async server(name: string, endpointUrl = `https://${name}.example.test/mcp`) {
      const em = orm.em.fork();
      const server = new MCPServer({
        tenant: em.getReference(Tenant, tenant.id, { wrapped: true }),
        name,
        endpointUrl,
        transportType: TransportType.STREAMABLE_HTTP,
      });
      await em.persistAndFlush(server);
      return server;
    },
    /** Servers with their tools, resources, prompts, circuit breaker and probe history, in one flush. */
    async servers(specs: readonly ServerSpec[]): Promise<MCPServer[]> {
      const em = orm.em.fork();
      const servers = specs.map((spec) => {
        const server = new MCPServer({
          tenant: em.getReference(Tenant, tenant.id, { wrapped: true }),
          name: spec.name,
          endpointUrl: spec.endpointUrl ?? `https://${spec.name}.example.test/mcp`,
          transportType: spec.transportType ?? TransportType.STREAMABLE_HTTP,
        });
        Object.assign(server, {
          healthStatus: spec.healthStatus ?? ServerStatus.HEALTHY,
          avgResponseTime: spec.avgResponseTime ?? null,
          description: spec.description ?? null,
          tags: spec.tags ?? [],
        });
        const ref = em.getReference(MCPServer, server.id, { wrapped: true });
        em.persist([
          server,
          Object.assign(new CircuitBreaker(ref, loadConfig({}).circuit), {
            state: spec.circuitState ?? CircuitBreakerState.CLOSED,
          }),
          ...(spec.tools ?? []).map((name) => {
            const tool = new ServerTool(ref, name);
            tool.description = spec.toolDescriptions?.[name] ?? null;
            tool.toolSchema = { type: 'object', properties: { query: { type: 'string' } } };
            const stats = spec.toolCalls?.[name];
            if (stats) {
              const errors = stats.errors ?? 0;
              Object.assign(tool, {
                totalCalls: stats.calls,
                errorCount: errors,
                successCount: stats.calls - errors,
              });
            }
            return tool;
          }),
          ...(spec.resources ?? []).map((uri) => new ServerResource(ref, uri)),
          ...(spec.prompts ?? []).map((name) => new ServerPrompt(ref, name)),
          ...(spec.probes ?? []).map((outcome, index) =>
            Object.assign(new HealthCheck(ref, server.healthStatus, outcome), {
              // Oldest first, a minute apart, ending a minute ago.
              checkedAt: new Date(Date.now() - ((spec.probes?.length ?? 0) - index) * 60_000),
              responseTimeMs: outcome === ProbeOutcome.OK ? 12 : null,
            }),
          ),
        ]);
        return server;
      });
      await em.flush();
      return servers;
    },
  };
}

export interface ServerSpec {
  readonly name: string;
  /** Default `https://<name>.example.test/mcp`. */
  readonly endpointUrl?: string;
  readonly healthStatus?: ServerStatus;
  readonly avgResponseTime?: number | null;
  readonly transportType?: TransportType;
  readonly description?: string;
  readonly tags?: string[];
  readonly tools?: string[];
  /** Descriptions of some of `tools`, by tool name (others have none). */
  readonly toolDescriptions?: Record<string, string>;
  readonly resources?: string[];
  readonly prompts?: string[];
  /** Probe history rows (health_checks), oldest first. */
  readonly probes?: ProbeOutcome[];
  readonly circuitState?: CircuitBreakerState;
  /** The gateway's lifetime counters of some of `tools`, by tool name. */
  readonly toolCalls?: Record<string, { calls: number; errors?: number }>;
}

async function issueKey(
  orm: Orm,
  tenantId: string | null,
  scopes: ApiKeyScope[],
  changes: KeyChanges,
): Promise<{ key: string; id: string }> {
  const em = orm.em.fork();
  const { userId, ...keyChanges } = changes;
  const { apiKey, key } = issueApiKey(em, {
    name: `test key ${scopes.join('+')}`,
    scopes,
    tenantId,
    userId: userId ?? null,
  });
  Object.assign(apiKey, keyChanges);
  await em.flush();
  return { key, id: apiKey.id };
}
