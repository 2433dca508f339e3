import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  postgresAvailable,
  redisAvailable,
  type TestDatabase,
} from '../support/database.js';
import { fullCatalog, startStreamableHttpServer } from '../support/mcp-servers.js';
import {
  postGraphql,
  productionEnvironment,
  runCli,
  type ServerProcess,
  startServerProcess,
} from './support/server-process.js';

/**
 * The CLI as operators run it (`node dist/src/cli.js`), against PostgreSQL while a server runs on it: keys
 * are listed, revoked and unlocked there and the running server honours it at the next request.
 */
describe.skipIf(!(postgresAvailable() && redisAvailable()))('the CLI beside a running server', () => {
  let workDir: string;
  let database: TestDatabase;
  let env: NodeJS.ProcessEnv;
  let server: ServerProcess;

  const cli = async (...args: string[]) => {
    const run = await runCli(workDir, env, args);
    expect(run, run.stderr).toMatchObject({ code: 0 });
    return run.stdout.trim();
  };
  const viewerStatus = async (key: string) =>
    (await postGraphql(server.url, key, '{ viewer { apiKey { id } } }', {})).status;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'mcp-cli-'));
    database = await createPostgresDatabase();
    const databaseUrl = database.target.kind === 'postgres' ? database.target.url : '';
    env = productionEnvironment(databaseUrl, `cli-admin-${randomUUID()}`, { HEALTH_CHECKER: 'off' });
    server = await startServerProcess(workDir, env);
  });

  afterAll(async () => {
    const code = await server?.stop();
    await database?.drop();
    await rm(workDir, { recursive: true, force: true });
    expect(code).toBe(0);
  });

  it('lists, revokes and unlocks keys, with --json for scripts', async () => {
    const tenantId = await cli('tenant', 'create', 'Console Co');
    const key = await cli('key', 'create', '--name', 'ops', '--tenant', tenantId, '--scopes', 'read,proxy');
    expect(await viewerStatus(key)).toBe(200);

    const listed = JSON.parse(await cli('key', 'list', '--tenant', tenantId, '--json')) as Record<
      string,
      unknown
    >[];
    expect(listed).toEqual([
      expect.objectContaining({
        prefix: key.slice(0, 12),
        state: 'ACTIVE',
        scopes: ['READ', 'PROXY'],
        name: 'ops',
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(key);
    const id = String(listed[0]?.id);
    expect(await cli('key', 'list', '--tenant', tenantId)).toMatch(new RegExp(`^${id}\\tmcp_`));

    // Wrong secrets sent with the key's prefix lock it (MAX_FAILED_ATTEMPTS, 10 by default).
    for (let attempt = 0; attempt < 10; attempt += 1) {
      expect(await viewerStatus(`${key.slice(0, 12)}${'x'.repeat(key.length - 12)}`)).toBe(401);
    }
    expect(await viewerStatus(key)).toBe(401);
    expect(JSON.parse(await cli('key', 'list', '--tenant', tenantId, '--json'))[0]).toMatchObject({
      state: 'LOCKED',
    });
    expect(JSON.parse(await cli('key', 'unlock', id, '--json'))).toMatchObject({ id, state: 'ACTIVE' });
    expect(await viewerStatus(key)).toBe(200);

    expect(JSON.parse(await cli('key', 'revoke', id, '--json'))).toMatchObject({ id, state: 'REVOKED' });
    expect(await viewerStatus(key)).toBe(401);

    const unknown = await runCli(workDir, env, ['key', 'revoke', randomUUID()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split('\n').at(-1)).toMatch(/^API key .* was not found\.$/);
  });

  it('lists servers', async () => {
    const tenantId = await cli('tenant', 'create', 'Servers Co');
    const key = await cli(
      'key',
      'create',
      '--name',
      'writer',
      '--tenant',
      tenantId,
      '--scopes',
      'read,write',
    );
    const registered = await postGraphql<{ registerServer: { id: string } }>(
      server.url,
      key,
      'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      {
        input: {
          name: 'declared',
          endpointUrl: 'https://declared.example.test/mcp',
          transportType: 'STREAMABLE_HTTP',
          discover: false,
        },
      },
    );
    expect(registered.errors).toBeUndefined();
    const servers = JSON.parse(await cli('server', 'list', '--tenant', tenantId, '--json'));
    expect(servers).toEqual([
      {
        id: registered.data?.registerServer.id,
        status: 'UNKNOWN',
        transport: 'STREAMABLE_HTTP',
        tenantId,
        name: 'declared',
        endpointUrl: 'https://declared.example.test/mcp',
      },
    ]);
  });

  it('imports the servers of a registry (here its own /v0.1), and a second run changes nothing', async () => {
    const sourceTenant = await cli('tenant', 'create', 'registry-source');
    const key = await cli(
      'key',
      'create',
      '--name',
      'reader',
      '--tenant',
      sourceTenant,
      '--scopes',
      'read,write',
    );
    const registered = await postGraphql(
      server.url,
      key,
      'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
      {
        input: {
          name: 'listed',
          endpointUrl: 'https://listed.example.test/mcp',
          transportType: 'SSE',
          discover: false,
        },
      },
    );
    expect(registered.errors).toBeUndefined();
    const mirror = await cli('tenant', 'create', 'Mirror Co');
    const importArgs = ['registry', 'import', '--from', server.origin, '--tenant', mirror];
    const first = await runCli(workDir, env, [
      ...importArgs,
      '--header',
      `Authorization: Bearer ${key}`,
      '--json',
    ]);
    expect(first, first.stderr).toMatchObject({ code: 0 });
    expect(JSON.parse(first.stdout)).toMatchObject({ created: 1, updated: 0, unchanged: 0, skipped: [] });
    expect(first.stderr).toContain('registry import: read 1 entries');
    // The registry's key was stored (sealed) with the source: the second run needs no --header.
    expect(await cli(...importArgs)).toBe('created 0, updated 0, unchanged 0, marked upstream 0, skipped 0');
    const servers = JSON.parse(await cli('server', 'list', '--tenant', mirror, '--json'));
    expect(servers).toEqual([
      expect.objectContaining({
        name: 'local.mcp-gateway.registry-source/listed',
        transport: 'SSE',
        endpointUrl: 'https://listed.example.test/mcp',
      }),
    ]);
    const refused = await runCli(workDir, env, [
      'registry',
      'import',
      '--from',
      'ftp://x',
      '--tenant',
      mirror,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('"url" must be an http:// or https:// URL.');
  });

  it('registers a server with its headers, discovers it, and checks its health now', async () => {
    const upstream = await startStreamableHttpServer(
      { ...fullCatalog, name: 'console-upstream' },
      { bearerToken: 'console-secret' },
    );
    try {
      const tenantId = await cli('tenant', 'create', 'Probes Co');
      const registered = JSON.parse(
        await cli(
          'server',
          'register',
          '--tenant',
          tenantId,
          '--name',
          'docs',
          '--url',
          upstream.url,
          '--header',
          'Authorization: Bearer console-secret',
          '--json',
        ),
      );
      expect(registered).toMatchObject({ name: 'docs', tenantId, transport: 'STREAMABLE_HTTP' });
      const checked = JSON.parse(await cli('server', 'check', registered.id, '--json'));
      expect(checked).toMatchObject({ id: registered.id, status: 'HEALTHY' });
      const refused = await runCli(workDir, env, [
        'server',
        'register',
        '--tenant',
        tenantId,
        '--name',
        'locked-out',
        '--url',
        upstream.url,
      ]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/could not be read as an MCP server/);
    } finally {
      await upstream.close();
    }
  });
});
