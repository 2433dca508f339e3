import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Orm } from '../src/db/orm.js';
import {
  type SeedOptions,
  SeedRefusedError,
  type SeedReport,
  seedDatabase,
} from '../src/seed/seed-database.js';
import {
  DiscoverServersDocument,
  type DiscoverServersQuery,
  ViewerDocument,
  type ViewerQuery,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY_MS = 86_400_000;

const OPTIONS: SeedOptions = {
  tenants: 4,
  servers: 150,
  toolsPerServer: 8,
  requestLogs: 3000,
  auditLogs: 900,
  checksPerServer: 3,
  seed: 7,
  reset: false,
  now: NOW,
  // Smaller than most tables, so they are written in several batches, the last one partly full.
  batchSize: 700,
};

/**
 * Each table as text, with what is meant to differ between runs left out: API key secrets and ids
 * (credentials are never derived from a seed). Rows that name a key name it by its tenant and name instead.
 */
const CONTENT: Record<string, string> = {
  tenants: 'select * from tenants',
  users: 'select * from users',
  api_keys: 'select tenant_id, user_id, name, scopes, is_active, created_at, last_used_at from api_keys',
  // updated_at is the database's change stamp (the Registry API's updated_since): the time of the write itself.
  mcp_servers: "select to_jsonb(s) - 'updated_at' from mcp_servers s",
  circuit_breakers: 'select * from circuit_breakers',
  server_tools: 'select * from server_tools',
  server_resources: 'select * from server_resources',
  server_prompts: 'select * from server_prompts',
  health_checks: 'select * from health_checks',
  audit_logs: `select l.id, l.created_at, l.tenant_id, l.user_id, k.tenant_id as key_tenant, k.name as key_name,
      l.action, l.resource_type, coalesce(rk.tenant_id || '/' || rk.name, l.resource_id) as resource,
      l.success, l.details, l.ip_address
    from audit_logs l
    left join api_keys k on k.id = l.api_key_id
    left join api_keys rk on rk.id::text = l.resource_id`,
  request_logs: `select r.id, r.created_at, r.request_id, r.tenant_id, k.tenant_id as key_tenant, k.name as key_name,
      r.method, r.path, r.operation_name, r.status_code, r.duration_ms
    from request_logs r left join api_keys k on k.id = r.api_key_id`,
};

let db: TestDatabase;
let app: TestApp;
let orm: Orm;
let first: SeedReport;
let firstContent: Record<string, string>;
let latest: SeedReport;

async function query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  return orm.em.fork().execute<T[]>(sql, params);
}

async function scalar(sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await query<{ value: number | string }>(sql, params);
  return Number(row?.value);
}

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.keys(CONTENT))
    counts[table] = await scalar(`select count(*) as value from "${table}"`);
  return counts;
}

async function content(): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const [table, sql] of Object.entries(CONTENT)) {
    const [row] = await query<{ digest: string }>(
      `select md5(string_agg(t::text, '|' order by t::text)) as digest from (${sql}) t`,
    );
    digests[table] = row?.digest ?? '';
  }
  return digests;
}

/** Servers that have ALL the tools, as discovery asks for them. */
function serversWithTools(tools: string[], statuses = ['healthy', 'degraded']): Promise<number> {
  return scalar(
    `select count(*) as value from mcp_servers s
     where s.health_status in (${statuses.map(() => '?').join(', ')})
       and s.id in (select t.server_id from server_tools t where t.name in (${tools.map(() => '?').join(', ')})
                    group by t.server_id having count(distinct t.name) = ?)`,
    [...statuses, ...tools, tools.length],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  // No ADMIN_API_KEY: the seed's rows are the only rows, so counts are exact.
  app = await startTestApp(db.target, { ADMIN_API_KEY: '' });
  orm = app.orm;
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('seedDatabase', () => {
  it('writes exactly the rows asked for, and reports what it wrote', async () => {
    first = await seedDatabase(orm, OPTIONS);
    latest = first;
    const counts = await rowCounts();

    expect(counts).toMatchObject({
      tenants: OPTIONS.tenants,
      users: OPTIONS.tenants * 3,
      mcp_servers: OPTIONS.servers,
      circuit_breakers: OPTIONS.servers,
      server_tools: OPTIONS.servers * OPTIONS.toolsPerServer,
      audit_logs: OPTIONS.auditLogs,
      request_logs: OPTIONS.requestLogs,
    });
    expect(counts).toEqual(first.rows);
    expect(counts.api_keys).toBeGreaterThanOrEqual(OPTIONS.tenants + 1);
    expect(counts.server_resources).toBeGreaterThan(0);
    expect(counts.server_prompts).toBeGreaterThan(0);
    const probed = await scalar(
      `select count(*) as value from mcp_servers where last_health_check_at is not null`,
    );
    expect(counts.health_checks).toBe(probed * OPTIONS.checksPerServer);
    expect(first.keys.tenants).toHaveLength(OPTIONS.tenants);
    expect(first.keys.tenants.reduce((sum, tenant) => sum + tenant.servers, 0)).toBe(OPTIONS.servers);
    expect(first.phases.map((phase) => phase.name)).toContain('request logs');
    firstContent = await content();
  });

  it('keeps every reference intact: keys act for their own tenant, every server has its breaker and tools', async () => {
    const problems = {
      serversWithoutOneBreaker: `select count(*) as value from mcp_servers s
        where (select count(*) from circuit_breakers c where c.server_id = s.id) <> 1`,
      serversWithOtherToolCounts: `select count(*) as value from mcp_servers s
        where (select count(*) from server_tools t where t.server_id = s.id) <> ${OPTIONS.toolsPerServer}`,
      requestsWithForeignOrMissingKey: `select count(*) as value from request_logs r
        left join api_keys k on k.id = r.api_key_id
        where r.api_key_id is not null and (k.id is null or k.tenant_id is distinct from r.tenant_id)`,
      unauthenticatedRequestsNot401: `select count(*) as value from request_logs
        where api_key_id is null and (status_code <> 401 or tenant_id is not null)`,
      requestsOfUnknownTenants: `select count(*) as value from request_logs r
        where r.tenant_id is not null and not exists (select 1 from tenants t where t.id = r.tenant_id)`,
      auditWithForeignOrMissingKey: `select count(*) as value from audit_logs l
        left join api_keys k on k.id = l.api_key_id
        where k.id is null or k.tenant_id is distinct from l.tenant_id`,
      keysOfAnotherTenantsUser: `select count(*) as value from api_keys k join users u on u.id = k.user_id
        where u.tenant_id is distinct from k.tenant_id`,
      auditOfUnknownUsers: `select count(*) as value from audit_logs l
        where l.user_id is not null and not exists (select 1 from users u where u.id = l.user_id)`,
      serversRegisteredTwiceOrNever: `select count(*) as value from mcp_servers s
        where (select count(*) from audit_logs l where l.action = 'server.register' and l.resource_id = s.id::text) <> 1`,
      requestsOutsideTheWindow: `select count(*) as value from request_logs
        where created_at < ?::timestamptz - interval '30 days' or created_at > ?::timestamptz`,
      templatesWithoutRegex: `select count(*) as value from server_resources
        where is_template <> (uri_template like '%{%') or (uri_regex is not null) <> is_template`,
      openBreakersWithoutOpenedAt: `select count(*) as value from circuit_breakers
        where (state = 'open') <> (opened_at is not null)`,
    };
    const found: Record<string, number> = {};
    for (const [problem, sql] of Object.entries(problems)) {
      found[problem] = await scalar(sql, sql.includes('?') ? [NOW, NOW] : []);
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(problems).map((problem) => [problem, 0])));
  });

  it('writes realistic values: a spread of health states, input schemas of a few hundred bytes, mostly 200s', async () => {
    const statuses = await query<{ health_status: string; count: number }>(
      'select health_status, count(*)::int as count from mcp_servers group by 1 order by 2 desc',
    );
    expect(statuses[0]?.health_status).toBe('healthy');
    expect(statuses.length).toBeGreaterThanOrEqual(4);
    expect(
      await scalar(`select count(*) as value from circuit_breakers where state = 'open'`),
    ).toBeGreaterThan(0);
    const schemaBytes = await scalar('select avg(length(tool_schema::text)) as value from server_tools');
    expect(schemaBytes).toBeGreaterThan(200);
    expect(schemaBytes).toBeLessThan(1000);
    const ok = await scalar('select avg((status_code = 200)::int) as value from request_logs');
    expect(ok).toBeGreaterThan(0.9);
    expect(ok).toBeLessThan(1);
    const lastDay = await scalar(
      `select count(*) as value from request_logs where created_at > ?::timestamptz - interval '1 day'`,
      [NOW],
    );
    // Denser recently: the last day has more than an average day's share.
    expect(lastDay).toBeGreaterThan(OPTIONS.requestLogs / 30);
    const newest = await scalar(
      'select extract(epoch from max(created_at)) * 1000 as value from request_logs',
    );
    expect(NOW.getTime() - newest).toBeLessThan(DAY_MS);
  });

  it('refuses a database that already has tenants and leaves it as it was', async () => {
    await expect(seedDatabase(orm, OPTIONS)).rejects.toThrow(SeedRefusedError);
    await expect(seedDatabase(orm, OPTIONS)).rejects.toThrow(/already has 4 tenants.*--reset/);
    expect(await content()).toEqual(firstContent);
  });

  it('with reset, replaces the rows instead of adding to them', async () => {
    const smaller = { ...OPTIONS, reset: true, tenants: 2, servers: 20, auditLogs: 10, requestLogs: 100 };
    const report = await seedDatabase(orm, smaller);
    const counts = await rowCounts();
    expect(counts).toEqual(report.rows);
    expect(counts).toMatchObject({ tenants: 2, mcp_servers: 20, audit_logs: 10, request_logs: 100 });
    expect(report.phases[0]?.name).toBe('reset');
  });

  it('writes the same rows for the same seed, and other rows for another seed', async () => {
    await seedDatabase(orm, { ...OPTIONS, seed: OPTIONS.seed + 1, reset: true });
    const other = await content();
    expect(other.mcp_servers).not.toBe(firstContent.mcp_servers);
    expect(other.request_logs).not.toBe(firstContent.request_logs);

    latest = await seedDatabase(orm, { ...OPTIONS, reset: true, batchSize: 333 });
    expect(await content()).toEqual(firstContent);
    expect(latest.keys.admin.key).not.toBe(first.keys.admin.key);
  });

  it('seeds servers that discovery finds, reachable with the keys it prints', async () => {
    const expected = await serversWithTools(['search', 'fetch']);
    expect(expected).toBeGreaterThan(0);
    // A few percent of servers, not most of them.
    expect(
      await serversWithTools(
        ['search', 'fetch'],
        ['healthy', 'degraded', 'unhealthy', 'unknown', 'maintenance'],
      ),
    ).toBeLessThan(OPTIONS.servers * 0.15);

    const discovered = await app.graphql<DiscoverServersQuery>({
      query: print(DiscoverServersDocument),
      variables: { tools: ['search', 'fetch'], first: 50 },
      key: latest.keys.admin.key,
    });
    expect(discovered.errors).toBeUndefined();
    expect(discovered.data?.servers.totalCount).toBe(expected);

    const [biggest] = latest.keys.tenants;
    const viewer = await app.graphql<ViewerQuery>({ query: print(ViewerDocument), key: biggest?.key });
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data?.viewer.tenant).toMatchObject({ id: biggest?.tenantId, name: biggest?.tenantName });
  });
});

describe('npm run seed', () => {
  const SEED_CLI = ['--import', '@swc-node/register/esm-register', 'src/seed/seed-cli.ts'];
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mcp-seed-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  function runSeed(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    // The embedded database under DATA_DIR, as the server would pick it without DATABASE_URL.
    const { DATABASE_URL: _url, ...env } = process.env;
    const child = spawn(process.execPath, [...SEED_CLI, ...args], {
      env: { ...env, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  }

  const SMALL = ['--tenants', '2', '--servers', '10', '--request-logs', '500', '--audit-logs', '40'];

  it('seeds the embedded database, writes the keys file, and refuses to seed it again without --reset', async () => {
    const keysFile = path.join(dataDir, 'keys.json');
    const seeded = await runSeed([...SMALL, '--keys-out', keysFile]);
    expect(seeded.stderr).toContain('seed event=end phase=request logs done=500 total=500');
    expect(seeded.code).toBe(0);
    expect(seeded.stdout).toMatch(/request_logs\s+500/);
    const keys = JSON.parse(await readFile(keysFile, 'utf8')) as SeedReport['keys'];
    expect(keys.admin.key).toMatch(/^mcp_/);
    expect(keys.tenants).toHaveLength(2);

    const refused = await runSeed(SMALL);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('already has 2 tenants');

    const reset = await runSeed([...SMALL, '--reset', '--servers', '5']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toMatch(/mcp_servers\s+5\n/);
    expect(reset.stdout).toContain('platform admin');

    const wrong = await runSeed(['--servers', 'many']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('--servers expects a whole number');
  }, 120_000);
});
