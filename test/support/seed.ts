import { ApiKey } from '../../src/auth/api-key.entity.js';
import { issueApiKey } from '../../src/auth/api-key.service.js';
import { loadConfig } from '../../src/config.js';
import type { Orm } from '../../src/db/orm.js';
import { ApiKeyScope } from '../../src/graphql/access.js';
import { CircuitBreaker } from '../../src/registry/circuit-breaker.entity.js';
import { MCPServer } from '../../src/registry/mcp-server.entity.js';
import { ServerStatus, TransportType } from '../../src/registry/registry.enums.js';
import { ServerResource } from '../../src/registry/server-resource.entity.js';
import { ServerTool } from '../../src/registry/server-tool.entity.js';
import { Tenant } from '../../src/tenants/tenant.entity.js';
import { User, UserRole } from '../../src/users/user.entity.js';

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
    /** A platform key (no tenant) with the given scopes. */
    key(scopes: ApiKeyScope[], changes: Partial<Pick<ApiKey, 'isActive' | 'isLocked' | 'expiresAt'>> = {}) {
      return issueKey(orm, null, scopes, changes);
    },
  };
}

function seededTenant(orm: Orm, tenant: Tenant) {
  return {
    id: tenant.id,
    name: tenant.name,
    /** A key of this tenant; READ and WRITE unless told otherwise. */
    key(
      scopes: ApiKeyScope[] = [ApiKeyScope.READ, ApiKeyScope.WRITE],
      changes: Partial<Pick<ApiKey, 'isActive' | 'isLocked' | 'expiresAt'>> = {},
    ) {
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
    /** Servers with their tools, resources and circuit breaker, written in one flush. */
    async servers(specs: readonly ServerSpec[]): Promise<MCPServer[]> {
      const em = orm.em.fork();
      const servers = specs.map((spec) => {
        const server = new MCPServer({
          tenant: em.getReference(Tenant, tenant.id, { wrapped: true }),
          name: spec.name,
          endpointUrl: `https://${spec.name}.example.test/mcp`,
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
          new CircuitBreaker(ref, loadConfig({}).circuit),
          ...(spec.tools ?? []).map((name) => {
            const tool = new ServerTool(ref, name);
            tool.toolSchema = { type: 'object', properties: { query: { type: 'string' } } };
            return tool;
          }),
          ...(spec.resources ?? []).map((uri) => new ServerResource(ref, uri)),
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
  readonly healthStatus?: ServerStatus;
  readonly avgResponseTime?: number | null;
  readonly transportType?: TransportType;
  readonly description?: string;
  readonly tags?: string[];
  readonly tools?: string[];
  readonly resources?: string[];
}

async function issueKey(
  orm: Orm,
  tenantId: string | null,
  scopes: ApiKeyScope[],
  changes: Partial<Pick<ApiKey, 'isActive' | 'isLocked' | 'expiresAt'>>,
): Promise<{ key: string; id: string }> {
  const em = orm.em.fork();
  const { apiKey, key } = issueApiKey(em, { name: `test key ${scopes.join('+')}`, scopes, tenantId });
  Object.assign(apiKey, changes);
  await em.flush();
  return { key, id: apiKey.id };
}
