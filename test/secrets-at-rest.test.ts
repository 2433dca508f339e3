import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { print } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { loadConfig } from '../src/config.js';
import { isSealedValue, keyIdOf, parseEncryptionKey } from '../src/crypto/keyring.js';
import { HealthCheck } from '../src/health/health-check.entity.js';
import { HealthChecker } from '../src/health/health-checker.js';
import { createLogger } from '../src/logger.js';
import {
  CheckServerHealthDocument,
  RefreshServerCapabilitiesDocument,
  RegisterServerDocument,
  UpdateServerDocument,
} from './sdk/graphql.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createPostgresDatabase, postgresAvailable, type TestDatabase } from './support/database.js';
import { captureLines } from './support/log-capture.js';
import { fullCatalog, type RunningServer, startStreamableHttpServer } from './support/mcp-servers.js';
import { seed } from './support/seed.js';

const KEY_A = randomBytes(32).toString('base64');
const KEY_B = randomBytes(32).toString('hex');
const keyId = (text: string) => {
  const key = parseEncryptionKey(text);
  if (key === null) throw new Error('not a key');
  return keyIdOf(key);
};

/** The upstream MCP server's token: what must never be readable in the database, a log or a response. */
const TOKEN = `tok_${randomBytes(12).toString('hex')}`;
const AUTHORIZATION = `Bearer ${TOKEN}`;

const running: RunningServer[] = [];
/** The Authorization header of every request the guarded server received. */
const received: (string | undefined)[] = [];
let guarded: RunningServer;

beforeAll(async () => {
  guarded = await startStreamableHttpServer(fullCatalog, {
    bearerToken: TOKEN,
    onRequest: (authorization) => received.push(authorization),
  });
  running.push(guarded);
});

afterAll(async () => {
  await Promise.all(running.map((server) => server.close().catch(() => {})));
});

/** Runs SQL on the test database directly, as an operator (or an attacker with database access) would. */
async function sql<T extends Record<string, unknown>>(
  db: TestDatabase,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  if (db.target.kind !== 'postgres') throw new Error('PostgreSQL only');
  const client = new pg.Client({ connectionString: db.target.url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The stored column as text, exactly as it is on disk. */
async function storedHeaders(db: TestDatabase, serverId: string): Promise<string | null> {
  const [row] = await sql<{ stored: string | null }>(
    db,
    'select connection_headers::text as stored from mcp_servers where id = $1',
    [serverId],
  );
  return row?.stored ?? null;
}

const register = (app: TestApp, key: string, input: Record<string, unknown>) =>
  app.graphql<{ registerServer: { id: string; tools: { name: string }[] } }>({
    query: print(RegisterServerDocument),
    variables: { input },
    key,
  });

const checkHealth = (app: TestApp, key: string, id: string) =>
  app.graphql<{ checkServerHealth: { healthStatus: string } }>({
    query: print(CheckServerHealthDocument),
    variables: { id },
    key,
  });

const refresh = (app: TestApp, key: string, id: string) =>
  app.graphql<{ refreshServerCapabilities: { id: string } }>({
    query: print(RefreshServerCapabilitiesDocument),
    variables: { id },
    key,
  });

/** A health checker sharing the app's database and keyring, with every server due now. */
async function probeAllDue(app: TestApp, db: TestDatabase, lines: string[] = []): Promise<number> {
  await sql(db, 'update mcp_servers set next_check_at = now()');
  const settings = { ...loadConfig({}).health, timeoutMs: 3000 };
  const log = createLogger('trace', captureLines(lines));
  return new HealthChecker(app.orm, settings, app.eventBus.pubSub, log, app.keyring).runDueChecks();
}

const guardedServer = (name: string) => ({
  name,
  endpointUrl: guarded.url,
  transportType: 'STREAMABLE_HTTP',
  headers: { Authorization: AUTHORIZATION },
});

describe.skipIf(!postgresAvailable())('stored credentials', () => {
  let db: TestDatabase;
  let app: TestApp;
  let key: string;
  const logs: string[] = [];

  beforeAll(async () => {
    db = await createPostgresDatabase();
    app = await startTestApp(
      db.target,
      { ENCRYPTION_KEY: KEY_A, LOG_LEVEL: 'trace' },
      { logTo: captureLines(logs) },
    );
    key = (await (await seed(app.orm).tenant('acme')).key()).key;
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('are sealed in the database, yet discovery, probes and refreshes authenticate with them', async () => {
    const before = received.length;
    const registered = await register(app, key, guardedServer('guarded'));
    expect(registered.errors).toBeUndefined();
    expect(registered.data?.registerServer.tools).toHaveLength(fullCatalog.tools?.length ?? -1);
    const id = registered.data?.registerServer.id ?? '';

    const stored = await storedHeaders(db, id);
    expect(stored).not.toContain(TOKEN);
    expect(stored).not.toContain('Authorization');
    const envelope: unknown = JSON.parse(stored ?? 'null');
    expect(isSealedValue(envelope)).toBe(true);
    expect(envelope).toMatchObject({ v: 1, alg: 'A256GCM', kid: keyId(KEY_A) });

    const checked = await checkHealth(app, key, id);
    expect(checked.errors).toBeUndefined();
    expect(checked.data?.checkServerHealth.healthStatus).toBe('HEALTHY');
    expect(await probeAllDue(app, db)).toBe(1);
    const outcomes = (await app.orm.em.fork().find(HealthCheck, { server: id })).map(
      (check) => check.outcome,
    );
    expect(outcomes).toEqual(['ok', 'ok']);
    expect((await refresh(app, key, id)).errors).toBeUndefined();

    // Every request the server saw carried the credentials.
    const seen = received.slice(before);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([AUTHORIZATION]));
  });

  it('are sealed anew (fresh IV) when updateServer sets them', async () => {
    const registered = await register(app, key, guardedServer('updated'));
    const id = registered.data?.registerServer.id ?? '';
    const first = await storedHeaders(db, id);
    const updated = await app.graphql({
      query: print(UpdateServerDocument),
      variables: { id, input: { headers: { Authorization: AUTHORIZATION } } },
      key,
    });
    expect(updated.errors).toBeUndefined();
    const second = await storedHeaders(db, id);
    expect(second).not.toContain(TOKEN);
    expect(JSON.parse(second ?? '{}').iv).not.toBe(JSON.parse(first ?? '{}').iv);
    expect((await checkHealth(app, key, id)).data?.checkServerHealth.healthStatus).toBe('HEALTHY');
  });

  it('are never returned: no output type of the schema has a field that could carry them', async () => {
    const { data } = await app.graphql<{
      __schema: {
        types: {
          name: string;
          kind: string;
          fields: { name: string }[] | null;
          inputFields: { name: string }[] | null;
        }[];
      };
    }>({ query: '{ __schema { types { name kind fields { name } inputFields { name } } } }' });
    const types = data?.__schema.types ?? [];
    expect(types.length).toBeGreaterThan(20);
    const exposing = types
      .filter((type) => type.kind === 'OBJECT' || type.kind === 'INTERFACE')
      .flatMap((type) => (type.fields ?? []).map((field) => `${type.name}.${field.name}`))
      .filter((field) => /header|sealed|credential|secret|encrypt/i.test(field));
    // Imported servers name the headers their upstream entry requires (names only, never a value).
    expect(exposing.sort()).toEqual(['MCPServer.missingCredentials', 'ServerUpstream.requiredHeaders']);
    // Headers go in (registration and updates) and nowhere else.
    const accepting = types
      .flatMap((type) => (type.inputFields ?? []).map((field) => `${type.name}.${field.name}`))
      .filter((field) => /header/i.test(field));
    expect(accepting.sort()).toEqual([
      'ImportRegistryServersInput.headers',
      'RegisterServerInput.headers',
      'UpdateServerInput.headers',
    ]);
  });

  it('never reach the logs or an error message, even when a server echoes them back', async () => {
    // A server that repeats the Authorization header it got in its error body.
    const echo = createServer((req, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`rejected: ${req.headers.authorization}`);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    running.push({
      url: '',
      close: () => new Promise<void>((resolve) => echo.close(() => resolve())),
    });
    const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}/mcp`;

    const refused = await register(app, key, { ...guardedServer('echo'), endpointUrl: echoUrl });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(JSON.stringify(refused.errors)).toContain('[redacted]');
    expect(JSON.stringify(refused.errors)).not.toContain(TOKEN);

    // Declared, then probed: the probe's error is kept in the history that the API serves.
    const declared = await register(app, key, {
      ...guardedServer('echo-declared'),
      endpointUrl: echoUrl,
      discover: false,
    });
    const echoId = declared.data?.registerServer.id ?? '';
    const probeLogs: string[] = [];
    expect(await probeAllDue(app, db, probeLogs)).toBeGreaterThan(0);
    const [check] = await app.orm.em.fork().find(HealthCheck, { server: echoId });
    expect(check?.error).toContain('[redacted]');
    expect(check?.error).not.toContain(TOKEN);

    const output = [...logs, ...probeLogs].join('\n');
    expect(logs.length).toBeGreaterThan(0); // the capture works: start-up lines at least
    expect(output).not.toContain(TOKEN);
    const audit = await app.orm.em.fork().find(AuditLog, { action: 'server.register' });
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  });
});

describe.skipIf(!postgresAvailable())('key rotation', () => {
  let db: TestDatabase;
  let key: string;
  let serverId: string;

  beforeAll(async () => {
    db = await createPostgresDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** Starts the app with ENCRYPTION_KEY=`keys`, runs `work`, stops it; returns the start-up log lines. */
  async function withApp(keys: string, work: (app: TestApp) => Promise<void>): Promise<string[]> {
    const lines: string[] = [];
    const app = await startTestApp(
      db.target,
      { ENCRYPTION_KEY: keys, LOG_LEVEL: 'info' },
      {
        logTo: captureLines(lines),
      },
    );
    try {
      await work(app);
    } finally {
      await app.close();
    }
    return lines;
  }

  it('starts with key A and registers a server', async () => {
    await withApp(KEY_A, async (app) => {
      key = (await (await seed(app.orm).tenant('rotating')).key()).key;
      const registered = await register(app, key, guardedServer('rotating'));
      expect(registered.errors).toBeUndefined();
      serverId = registered.data?.registerServer.id ?? '';
    });
    expect(JSON.parse((await storedHeaders(db, serverId)) ?? '{}').kid).toBe(keyId(KEY_A));
  });

  it('restarted with "B,A": seals the headers again with B at start-up and keeps working', async () => {
    const before = await storedHeaders(db, serverId);
    const lines = await withApp(`${KEY_B},${KEY_A}`, async (app) => {
      expect((await storedHeaders(db, serverId)) ?? '').not.toBe(before);
      expect(JSON.parse((await storedHeaders(db, serverId)) ?? '{}').kid).toBe(keyId(KEY_B));
      expect((await checkHealth(app, key, serverId)).data?.checkServerHealth.healthStatus).toBe('HEALTHY');
    });
    const report = lines.map((line) => JSON.parse(line)).find((line) => line.msg.includes('sealed'));
    expect(report).toMatchObject({ sealed: 0, resealed: 1, unreadable: 0, keyId: keyId(KEY_B) });
  });

  it('restarted with only "B": opens them, and has nothing left to seal', async () => {
    const before = await storedHeaders(db, serverId);
    const lines = await withApp(KEY_B, async (app) => {
      expect((await checkHealth(app, key, serverId)).data?.checkServerHealth.healthStatus).toBe('HEALTHY');
      expect((await refresh(app, key, serverId)).errors).toBeUndefined();
    });
    expect(await storedHeaders(db, serverId)).toBe(before);
    expect(lines.some((line) => line.includes('connection headers'))).toBe(false);
  });

  it('restarted without B: answers CREDENTIALS_UNAVAILABLE, records failed probes, contacts nobody', async () => {
    const before = await storedHeaders(db, serverId);
    const requestsBefore = received.length;
    const probeLogs: string[] = [];
    const lines = await withApp(KEY_A, async (app) => {
      for (const answer of [await checkHealth(app, key, serverId), await refresh(app, key, serverId)]) {
        expect(answer.data).toBeNull();
        expect(answer.errors?.[0]?.extensions).toMatchObject({
          code: 'CREDENTIALS_UNAVAILABLE',
          reason: 'UNKNOWN_KEY',
          keyId: keyId(KEY_B),
        });
        expect(answer.errors?.[0]?.message).toContain('updateServer');
      }
      const failedRefresh = await app.orm.em
        .fork()
        .findOneOrFail(AuditLog, { action: 'server.refresh', resourceId: serverId, success: false });
      expect(failedRefresh.details.error).toBe('CREDENTIALS_UNAVAILABLE');

      expect(await probeAllDue(app, db, probeLogs)).toBe(1);
      const checks = await app.orm.em
        .fork()
        .find(HealthCheck, { server: serverId }, { orderBy: { checkedAt: 'desc' } });
      expect(checks[0]).toMatchObject({ outcome: 'auth_failed', responseTimeMs: null });
      expect(checks[0]?.error).toMatch(
        /^not probed: .*sealed with key [0-9a-f]{16}, which is not in ENCRYPTION_KEY/,
      );
    });
    expect(received.length).toBe(requestsBefore);
    // Kept as it was: starting again with B opens it.
    expect(await storedHeaders(db, serverId)).toBe(before);
    const startup = lines.map((line) => JSON.parse(line));
    expect(startup).toContainEqual(
      expect.objectContaining({ level: 40, serverId, reason: 'unknown_key', keyId: keyId(KEY_B) }),
    );
    expect(startup).toContainEqual(expect.objectContaining({ resealed: 0, unreadable: 1 }));
    const probeWarning = probeLogs.map((line) => JSON.parse(line)).find((line) => line.serverId === serverId);
    expect(probeWarning).toMatchObject({ level: 40, reason: 'unknown_key', keyId: keyId(KEY_B) });
    expect([...lines, ...probeLogs].join('\n')).not.toContain(TOKEN);
  });
});

describe.skipIf(!postgresAvailable())('stored values that do not open', () => {
  let db: TestDatabase;
  let app: TestApp;
  let key: string;

  beforeAll(async () => {
    db = await createPostgresDatabase();
    app = await startTestApp(db.target, { ENCRYPTION_KEY: KEY_A });
    key = (await (await seed(app.orm).tenant('victim')).key()).key;
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('fail cleanly when altered or moved to another server, and work again once set anew', async () => {
    const [tampered, target, source] = await Promise.all(
      ['tampered', 'target', 'source'].map(async (name) => {
        const registered = await register(app, key, guardedServer(name));
        expect(registered.errors).toBeUndefined();
        return registered.data?.registerServer.id ?? '';
      }),
    );
    if (!tampered || !target || !source) throw new Error('three servers expected');
    // One changed bit of ciphertext; and the source's sealed value copied onto the target's row.
    const envelope = JSON.parse((await storedHeaders(db, tampered)) ?? '{}');
    const ct = Buffer.from(envelope.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 1;
    await sql(db, 'update mcp_servers set connection_headers = $1 where id = $2', [
      JSON.stringify({ ...envelope, ct: ct.toString('base64') }),
      tampered,
    ]);
    await sql(
      db,
      'update mcp_servers set connection_headers = (select connection_headers from mcp_servers where id = $1) where id = $2',
      [source, target],
    );

    const requestsBefore = received.length;
    for (const id of [tampered, target]) {
      const answer = await checkHealth(app, key, id);
      expect(answer.errors?.[0]?.extensions).toMatchObject({
        code: 'CREDENTIALS_UNAVAILABLE',
        reason: 'REJECTED',
      });
      expect(answer.errors?.[0]?.message).toContain('altered, or sealed for another row');
    }
    const probeLogs: string[] = [];
    expect(await probeAllDue(app, db, probeLogs)).toBe(3);
    // Only the intact server was contacted, with its credentials.
    expect(received.slice(requestsBefore).every((authorization) => authorization === AUTHORIZATION)).toBe(
      true,
    );
    const latest = async (id: string) =>
      (await app.orm.em.fork().find(HealthCheck, { server: id }, { orderBy: { checkedAt: 'desc' } }))[0];
    expect(await latest(source)).toMatchObject({ outcome: 'ok' });
    for (const id of [tampered, target]) {
      expect(await latest(id)).toMatchObject({ outcome: 'auth_failed' });
      const warning = probeLogs.map((line) => JSON.parse(line)).find((line) => line.serverId === id);
      expect(warning).toMatchObject({ level: 40, reason: 'rejected', keyId: keyId(KEY_A) });
    }

    const repaired = await app.graphql({
      query: print(UpdateServerDocument),
      variables: { id: target, input: { headers: { Authorization: AUTHORIZATION } } },
      key,
    });
    expect(repaired.errors).toBeUndefined();
    expect((await checkHealth(app, key, target)).data?.checkServerHealth.healthStatus).toBe('HEALTHY');
  });
});

describe.skipIf(!postgresAvailable())('headers stored before encryption at rest', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createPostgresDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  it('are sealed at the next start, in batches, and keep working', async () => {
    const first = await startTestApp(db.target, { ENCRYPTION_KEY: KEY_A });
    let key: string;
    let guardedId: string;
    try {
      const tenant = await seed(first.orm).tenant('legacy');
      key = (await tenant.key()).key;
      // More rows than one batch takes, as an older version stored them: plain JSON.
      const servers = await tenant.servers(
        Array.from({ length: 450 }, (_, index) => ({ name: `old-${index}` })),
      );
      const registered = await register(first, key, { ...guardedServer('legacy-guarded'), discover: false });
      guardedId = registered.data?.registerServer.id ?? '';
      await sql(db, `update mcp_servers set connection_headers = $1 where id = any($2::uuid[])`, [
        JSON.stringify({ Authorization: AUTHORIZATION }),
        [guardedId, ...servers.map((server) => server.id)],
      ]);
    } finally {
      await first.close();
    }
    const [plain] = await sql<{ count: number }>(
      db,
      `select count(*)::int as count from mcp_servers where connection_headers::text like $1`,
      [`%${TOKEN}%`],
    );
    expect(plain?.count).toBe(451);

    const lines: string[] = [];
    const second = await startTestApp(
      db.target,
      { ENCRYPTION_KEY: KEY_A, LOG_LEVEL: 'info' },
      { logTo: captureLines(lines) },
    );
    try {
      const [left] = await sql<{ count: number }>(
        db,
        `select count(*)::int as count from mcp_servers where connection_headers::text like $1`,
        [`%${TOKEN}%`],
      );
      expect(left?.count).toBe(0);
      const [sealed] = await sql<{ count: number }>(
        db,
        `select count(*)::int as count from mcp_servers where connection_headers ->> 'kid' = $1`,
        [keyId(KEY_A)],
      );
      expect(sealed?.count).toBe(451);
      const report = lines.map((line) => JSON.parse(line)).find((line) => line.msg.includes('sealed'));
      expect(report).toMatchObject({ sealed: 451, resealed: 0, unreadable: 0 });
      expect((await checkHealth(second, key, guardedId)).data?.checkServerHealth.healthStatus).toBe(
        'HEALTHY',
      );
    } finally {
      await second.close();
    }
  });
});
