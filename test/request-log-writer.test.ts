import { randomUUID } from 'node:crypto';
import { ApolloServer, type GraphQLResponse } from '@apollo/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestLog } from '../src/audit/request-log.entity.js';
import {
  createRequestLogWriter,
  type RequestLogEntry,
  type RequestLogWriter,
  statusOfResponse,
} from '../src/audit/request-log-writer.js';
import { initOrm, type Orm } from '../src/db/orm.js';
import { entities } from '../src/entities.js';
import { ApiKeyScope } from '../src/graphql/access.js';
import type { GraphQLContext } from '../src/graphql/context.js';
import { forbidden } from '../src/graphql/errors.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** The request log writer, driven directly and through a real Apollo Server, against a real database. */

let db: TestDatabase;
let orm: Orm;
const statements: string[] = [];
const writers: RequestLogWriter[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  orm = await initOrm({ target: db.target, entities, onQuery: (sql) => statements.push(sql) });
  await orm.getMigrator().up();
});

beforeEach(async () => {
  await orm.em.fork().nativeDelete(RequestLog, {});
});

afterAll(async () => {
  await Promise.all(writers.map((writer) => writer.close()));
  await orm?.close(true);
  await db?.drop();
});

/** A writer whose timer never fires during a test unless asked, so every write is one the test caused. */
function writer(options: Partial<Parameters<typeof createRequestLogWriter>[0]> = {}): RequestLogWriter {
  const created = createRequestLogWriter({ orm, flushIntervalMs: 3_600_000, ...options });
  writers.push(created);
  return created;
}

function entry(changes: Partial<RequestLogEntry> = {}): RequestLogEntry {
  return {
    requestId: randomUUID(),
    tenantId: null,
    apiKeyId: null,
    userId: null,
    method: 'POST',
    path: '/graphql',
    operationName: 'ServerList',
    statusCode: 200,
    durationMs: 12.5,
    createdAt: new Date('2026-11-28T10:00:00.123Z'),
    ...changes,
  };
}

function stored(): Promise<RequestLog[]> {
  return orm.em.fork().find(RequestLog, {}, { orderBy: { durationMs: 'ASC' } });
}

function warnings() {
  return { warn: vi.fn() };
}

describe('buffering and batches', () => {
  it('writes nothing on the request path, then everything on flush', async () => {
    const logs = writer();
    const tenantId = randomUUID();
    const apiKeyId = randomUUID();
    const userId = randomUUID();
    logs.record(entry({ requestId: 'req-1', tenantId, apiKeyId, userId, durationMs: 1 }));
    logs.record(entry({ requestId: 'req-2', operationName: null, statusCode: 404, durationMs: 2 }));
    expect(await stored()).toHaveLength(0);

    await logs.flush();
    const rows = await stored();
    expect(rows.map((row) => ({ ...row }))).toEqual([
      expect.objectContaining({
        requestId: 'req-1',
        tenantId,
        apiKeyId,
        userId,
        method: 'POST',
        path: '/graphql',
        operationName: 'ServerList',
        statusCode: 200,
        durationMs: 1,
        createdAt: new Date('2026-11-28T10:00:00.123Z'),
      }),
      expect.objectContaining({ requestId: 'req-2', operationName: null, statusCode: 404, durationMs: 2 }),
    ]);
  });

  it('writes a full batch at once, without waiting for the interval', async () => {
    const logs = writer({ batchSize: 3 });
    logs.record(entry({ durationMs: 1 }));
    logs.record(entry({ durationMs: 2 }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stored()).toHaveLength(0);
    logs.record(entry({ durationMs: 3 }));
    await vi.waitFor(async () => expect(await stored()).toHaveLength(3), { timeout: 2000 });
  });

  it('writes on the interval', async () => {
    const logs = writer({ flushIntervalMs: 50 });
    logs.record(entry());
    await vi.waitFor(async () => expect(await stored()).toHaveLength(1), { timeout: 2000 });
  });

  it('splits a large buffer into batches', async () => {
    const logs = writer({ batchSize: 500 });
    for (let index = 0; index < 1234; index += 1) logs.record(entry({ durationMs: index }));
    await logs.flush();
    expect(await orm.em.fork().count(RequestLog)).toBe(1234);
  });

  it('keeps the first row of a repeated request id and the rest of the batch', async () => {
    const logs = writer();
    logs.record(entry({ requestId: 'client-chosen', durationMs: 1 }));
    logs.record(entry({ requestId: 'client-chosen', durationMs: 2 }));
    logs.record(entry({ requestId: 'other', durationMs: 3 }));
    await logs.flush();
    logs.record(entry({ requestId: 'client-chosen', durationMs: 4 }));
    await logs.flush();
    expect((await stored()).map((row) => [row.requestId, row.durationMs])).toEqual([
      ['client-chosen', 1],
      ['other', 3],
    ]);
  });

  it('labels its statements, which belong to no request, in the query log', async () => {
    const logs = writer();
    logs.record(entry());
    statements.length = 0;
    await logs.flush();
    expect(statements).toEqual([
      expect.stringMatching(/^\[query\] \(background:request-log\) insert into "request_logs"/),
    ]);
  });

  it('trims values to their columns', async () => {
    const logs = writer();
    logs.record(
      entry({ requestId: 'r'.repeat(100), operationName: 'o'.repeat(300), method: 'PROPPATCHXYZ' }),
    );
    await logs.flush();
    const [row] = await stored();
    expect(row?.requestId).toHaveLength(64);
    expect(row?.operationName).toHaveLength(255);
    expect(row?.method).toBe('PROPPATCHX');
  });
});

describe('failures and shutdown', () => {
  it('drops a batch the database refuses, says so, and goes on with the next', async () => {
    const log = warnings();
    const logs = writer({ log });
    logs.record(entry({ statusCode: 70_000 })); // beyond smallint: the insert fails
    await expect(logs.flush()).resolves.toBeUndefined();
    expect(log.warn).toHaveBeenCalledWith(
      expect.objectContaining({ rows: 1 }),
      'request log batch could not be written; dropped',
    );
    logs.record(entry({ durationMs: 5 }));
    await logs.flush();
    expect((await stored()).map((row) => row.durationMs)).toEqual([5]);
  });

  it('holds at most maxBuffered rows and counts what it dropped', async () => {
    const log = warnings();
    const logs = writer({ log, maxBuffered: 2 });
    for (let index = 0; index < 5; index += 1) logs.record(entry({ durationMs: index }));
    await logs.flush();
    expect((await stored()).map((row) => row.durationMs)).toEqual([0, 1]);
    expect(log.warn).toHaveBeenCalledWith({ dropped: 3 }, expect.stringContaining('dropped'));
  });

  it('writes what is left on close, and nothing recorded afterwards', async () => {
    const logs = writer();
    logs.record(entry({ durationMs: 1 }));
    await logs.close();
    expect(await stored()).toHaveLength(1);
    logs.record(entry({ durationMs: 2 }));
    await logs.close();
    await logs.flush();
    expect(await stored()).toHaveLength(1);
  });
});

describe('statusOfResponse', () => {
  const response = (status: number | undefined, codes?: string[]): GraphQLResponse =>
    ({
      http: { status, headers: new Map() },
      body: {
        kind: 'single',
        singleResult: codes
          ? { errors: codes.map((code) => ({ message: code, extensions: { code } })) }
          : { data: {} },
      },
    }) as unknown as GraphQLResponse;

  it('is the HTTP status, or for errors sent with 200 the status of the gravest one', () => {
    expect(statusOfResponse(response(undefined))).toBe(200);
    expect(statusOfResponse(response(401, ['UNAUTHENTICATED']))).toBe(401);
    expect(statusOfResponse(response(undefined, ['NOT_FOUND']))).toBe(404);
    expect(statusOfResponse(response(200, ['BAD_USER_INPUT', 'FORBIDDEN']))).toBe(403);
    expect(statusOfResponse(response(undefined, ['BAD_USER_INPUT', 'INTERNAL_SERVER_ERROR']))).toBe(500);
    expect(statusOfResponse(response(undefined, ['SOMETHING_NEW']))).toBe(500);
  });
});

describe('the Apollo Server plugin', () => {
  const viewer = {
    apiKeyId: randomUUID(),
    tenantId: randomUUID(),
    userId: randomUUID(),
    scopes: new Set([ApiKeyScope.READ]),
  };
  const context = (requestId: string) => ({ requestId, viewer }) as unknown as GraphQLContext;

  async function apollo(logs: RequestLogWriter): Promise<ApolloServer<GraphQLContext>> {
    const server = new ApolloServer<GraphQLContext>({
      typeDefs: 'type Query { hello: String, secret: String, slow: String }',
      resolvers: {
        Query: {
          hello: () => 'world',
          secret: () => {
            throw forbidden('no');
          },
          slow: () => new Promise((resolve) => setTimeout(() => resolve('done'), 30)),
        },
      },
      plugins: [logs.plugin],
    });
    await server.start();
    return server;
  }

  it('records each operation with its viewer, outcome and duration, and writes them when the server stops', async () => {
    const logs = writer({ path: '/api/graphql' });
    const server = await apollo(logs);
    await server.executeOperation({ query: 'query Hello { hello }' }, { contextValue: context('op-ok') });
    await server.executeOperation(
      { query: 'query Secret { secret }' },
      { contextValue: context('op-forbidden') },
    );
    await server.executeOperation({ query: 'query Slow { slow }' }, { contextValue: context('op-slow') });
    await server.executeOperation({ query: '{ nope }' }, { contextValue: context('op-invalid') });
    expect(await stored()).toHaveLength(0);

    await server.stop(); // serverWillStop closes the writer
    const rows = new Map((await stored()).map((row) => [row.requestId, row]));
    expect(rows.get('op-ok')).toMatchObject({
      tenantId: viewer.tenantId,
      apiKeyId: viewer.apiKeyId,
      userId: viewer.userId,
      method: 'POST',
      path: '/api/graphql',
      operationName: 'Hello',
      statusCode: 200,
    });
    expect(rows.get('op-forbidden')).toMatchObject({ operationName: 'Secret', statusCode: 403 });
    expect(rows.get('op-invalid')).toMatchObject({ operationName: null, statusCode: 400 });
    expect(rows.get('op-slow')?.durationMs).toBeGreaterThanOrEqual(25);
    expect(rows.get('op-ok')?.durationMs).toBeGreaterThanOrEqual(0);
    expect(rows.get('op-ok')?.durationMs).toBeLessThan(rows.get('op-slow')?.durationMs ?? 0);
  });
});
