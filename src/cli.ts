import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { type AuditActor, audited } from './audit/audit-trail.js';
import { issueApiKey } from './auth/api-key.service.js';
import { ConfigError, loadConfig } from './config.js';
import { databaseTarget, type EntityManager, initOrm } from './db/orm.js';
import { entities } from './entities.js';
import { ApiKeyScope } from './graphql/access.js';
import { ApiError } from './graphql/errors.js';
import { isUuid } from './graphql/validate.js';
import { Tenant } from './tenants/tenant.entity.js';
import { createTenant } from './tenants/tenant.service.js';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  tenant create <name>                 create a tenant; prints its id
  tenant list                          list tenants (id, status, name)
  key create --name <name>             create an API key; prints the key once
      [--tenant <id>]                  the key's tenant (omit for a platform key)
      [--scopes read,write,...]        default: read,write (admin makes it a platform admin key)
      [--expires <ISO date>]

Uses the same environment as the server (DATABASE_URL, DATA_DIR, MIGRATE_ON_START).`;

/** The operator at the console: its audit rows carry no API key, which is how they read in the trail. */
const CONSOLE_ACTOR: AuditActor = { tenantId: null, userId: null, apiKeyId: null, ipAddress: null };

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [resource, action, ...rest] = positionals;
  if (values.help || resource === undefined) {
    console.log(USAGE);
    return;
  }
  const config = loadConfig();
  const orm = await initOrm({ target: databaseTarget(config), entities });
  try {
    if (config.migrateOnStart) await orm.getMigrator().up();
    const em = orm.em.fork();
    if (resource === 'tenant' && action === 'create') {
      const name = rest.join(' ');
      if (name === '') throw new UsageError('tenant create needs a name');
      const tenant = await createTenant(em, CONSOLE_ACTOR, { name });
      console.log(tenant.id);
    } else if (resource === 'tenant' && action === 'list') {
      for (const tenant of await em.find(Tenant, {}, { orderBy: { name: 'ASC', id: 'ASC' } })) {
        console.log(`${tenant.id}\t${tenant.status.toUpperCase()}\t${tenant.name}`);
      }
    } else if (resource === 'key' && action === 'create') {
      console.log(await createKey(em, values));
    } else {
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
  } finally {
    await orm.close();
  }
}

async function createKey(
  em: EntityManager,
  options: { name?: string; tenant?: string; scopes?: string; expires?: string },
): Promise<string> {
  const name = options.name?.trim();
  if (!name) throw new UsageError('key create needs --name');
  const tenantId = options.tenant ?? null;
  if (tenantId !== null && (!isUuid(tenantId) || (await em.findOne(Tenant, tenantId)) === null)) {
    throw new UsageError(`no tenant with id "${tenantId}"`);
  }
  const scopes = parseScopes(options.scopes ?? 'read,write');
  const expiresAt = options.expires === undefined ? null : new Date(options.expires);
  if (expiresAt !== null && (Number.isNaN(expiresAt.getTime()) || expiresAt <= new Date())) {
    throw new UsageError('--expires must be a future ISO 8601 date');
  }
  const entry = { action: 'api_key.create', resourceType: 'api_key', details: { name, via: 'cli' } };
  return audited(em, CONSOLE_ACTOR, entry, async (tx) => {
    const issued = issueApiKey(tx, { name, scopes, tenantId });
    issued.apiKey.expiresAt = expiresAt;
    await tx.flush();
    return { result: issued.key, resourceId: issued.apiKey.id };
  });
}

function parseScopes(list: string): ApiKeyScope[] {
  const known = Object.values(ApiKeyScope);
  return list.split(',').map((raw) => {
    const scope = known.find((candidate) => candidate === raw.trim().toLowerCase());
    if (scope === undefined) throw new UsageError(`unknown scope "${raw}"; use ${known.join(', ')}`);
    return scope;
  });
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else if (error instanceof ConfigError) console.error(`Invalid configuration: ${error.message}`);
  else if (error instanceof ApiError) console.error(error.message);
  else console.error(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
});
