import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { audited } from './audit/audit-trail.js';
import { issueApiKey } from './auth/api-key.service.js';
import { CONSOLE_ACTOR } from './cli/console-operator.js';
import { changeKey, listKeys } from './cli/key-commands.js';
import { printRows } from './cli/output.js';
import { importFromConsole } from './cli/registry-commands.js';
import { checkFromConsole, listServers, registerFromConsole } from './cli/server-commands.js';
import type { AppConfig } from './config.js';
import { openDatabase } from './db/open-database.js';
import { databaseTarget, type EntityManager } from './db/orm.js';
import { entities } from './entities.js';
import { CommandError, runCommand } from './entry-point.js';
import { ApiKeyScope } from './graphql/access.js';
import { isUuid } from './graphql/validate.js';
import type { Logger } from './logger.js';
import { Tenant } from './tenants/tenant.entity.js';
import { createTenant } from './tenants/tenant.service.js';

const USAGE = `Usage: npm run cli -- <command> [options]

Commands:
  tenant create <name>                 create a tenant; prints its id
  tenant list                          list tenants (id, status, name)
  key create --name <name>             create an API key; prints the key once
      [--tenant <id>]                  the key's tenant (omit for a platform key)
      [--scopes read,write,...]        default: read,write; add proxy to call tools and agents' /mcp,
                                       metrics for /metrics (admin makes it a platform admin key)
      [--expires <ISO date>]
  key list [--tenant <id>]             list keys, newest first (id, prefix, state, tenant, scopes, name)
  key revoke <id>                      revoke a key for good (its next request is refused)
  key unlock <id>                      lift a lockout after wrong secrets
  server list [--tenant <id>]          list registered servers (id, status, transport, tenant, name, URL)
  server register --tenant <id> --name <name> --url <endpoint URL>
      [--transport streamable_http|sse] default streamable_http
      [--header "Name: value"]...      sent with every request (stored sealed)
      [--no-discover]                  register without asking the server for its tools
  server check <id>                    probe it now; prints its health
  registry import --from <URL>         import the servers of an MCP registry (its base URL, before /v0.1)
      [--tenant <id>]                  into this tenant (required)
      [--search <text>]                only entries whose name holds it
      [--header "Name: value"]...      sent to the registry (a key it wants; stored sealed for later runs)
      [--discover]                     ask each new or moved server for its tools
      [--full]                         read every entry, not only those changed since the last run

Options:
  --json                               print lists and records as JSON, for scripts

Uses the same environment as the server (DATABASE_URL, DATA_DIR, MIGRATE_ON_START, REDIS_URL); on
PostgreSQL it runs beside running servers (with REDIS_URL, they hear of a revocation at once).`;

/** A mistake in the command line: told with the usage. */
class UsageError extends CommandError {
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
  }
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        tenant: { type: 'string' },
        scopes: { type: 'string' },
        expires: { type: 'string' },
        json: { type: 'boolean' },
        url: { type: 'string' },
        transport: { type: 'string' },
        header: { type: 'string', multiple: true },
        'no-discover': { type: 'boolean' },
        from: { type: 'string' },
        search: { type: 'string' },
        discover: { type: 'boolean' },
        full: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    // parseArgs refuses unknown options and missing values with a TypeError whose message says which.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(config: AppConfig, log: Logger, argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(argv);
  const [resource, action, ...rest] = positionals;
  const database = await openDatabase({
    target: databaseTarget(config),
    entities,
    process: 'cli',
    migrate: config.migrateOnStart,
    log,
  });
  try {
    const em = database.orm.em.fork();
    const json = values.json === true;
    const [id] = rest;
    if (values.tenant !== undefined && !isUuid(values.tenant)) {
      throw new UsageError(`--tenant must be a tenant id, got "${values.tenant}"`);
    }
    if (resource === 'tenant' && action === 'create') {
      const name = rest.join(' ');
      if (name === '') throw new UsageError('tenant create needs a name');
      const tenant = await createTenant(em, CONSOLE_ACTOR, { name }, config.registryNamespaceBase);
      console.log(tenant.id);
    } else if (resource === 'tenant' && action === 'list') {
      const tenants = await em.find(Tenant, {}, { orderBy: { name: 'ASC', id: 'ASC' } });
      const rows = tenants.map((tenant) => ({
        id: tenant.id,
        status: tenant.status.toUpperCase(),
        name: tenant.name,
      }));
      printRows(rows, ['id', 'status', 'name'], json);
    } else if (resource === 'key' && action === 'create') {
      console.log(await createKey(em, values));
    } else if (resource === 'key' && action === 'list') {
      await listKeys(em, values.tenant, json);
    } else if (resource === 'key' && (action === 'revoke' || action === 'unlock')) {
      if (id === undefined) throw new UsageError(`key ${action} needs the key's id`);
      await changeKey(em, config, log, action, id, json);
    } else if (resource === 'server' && action === 'list') {
      await listServers(em, values.tenant, json);
    } else if (resource === 'server' && action === 'register') {
      const discover = values['no-discover'] !== true;
      await registerFromConsole(em, config, log, { ...values, discover }, json);
    } else if (resource === 'server' && action === 'check') {
      if (id === undefined) throw new UsageError("server check needs the server's id");
      await checkFromConsole(em, config, log, id, json);
    } else if (resource === 'registry' && action === 'import') {
      if (values.tenant === undefined) throw new UsageError('registry import needs --tenant <id>');
      const options = { ...values, discover: values.discover === true, full: values.full === true };
      await importFromConsole(em, config, log, options, json);
    } else {
      throw new UsageError(`unknown command "${positionals.join(' ')}"`);
    }
  } finally {
    await database.close();
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

const argv = process.argv.slice(2);
if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) console.log(USAGE);
else runCommand(({ config, log }) => main(config, log, argv));
