import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { backgroundFork, type Orm } from '../db/orm.js';
import type { GraphQLContext } from '../graphql/context.js';
import { httpStatusOfCode } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { RequestLog } from './request-log.entity.js';

/** One request, as it will be written to request_logs. */
export interface RequestLogEntry {
  readonly requestId: string;
  readonly tenantId: string | null;
  readonly apiKeyId: string | null;
  /** The signed-in user (a token's), or the user the key was issued to. */
  readonly userId: string | null;
  readonly method: string;
  readonly path: string;
  readonly operationName: string | null;
  readonly statusCode: number;
  readonly durationMs: number;
  /** When the request arrived. */
  readonly createdAt: Date;
}

export interface RequestLogWriterOptions {
  readonly orm: Orm;
  readonly log?: Pick<Logger, 'warn'>;
  /** Where the GraphQL endpoint is mounted; Apollo's plugins do not see the URL. */
  readonly path?: string;
  readonly flushIntervalMs?: number;
  /** Rows per INSERT; a buffer this full is written at once, without waiting for the interval. */
  readonly batchSize?: number;
  /** Rows held while the database is slow or away; beyond this, new rows are dropped (and counted). */
  readonly maxBuffered?: number;
}

export interface RequestLogWriter {
  /** The Apollo Server plugin: records every operation, and writes what is left when the server stops. */
  readonly plugin: ApolloServerPlugin<GraphQLContext>;
  /** Buffers one row (the gateway's tool calls can be recorded the same way). */
  record(entry: RequestLogEntry): void;
  /** Writes every row buffered so far. Never rejects: a failed batch is logged and dropped. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is left; rows recorded afterwards are dropped. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * The HTTP status a response stands for. GraphQL answers most errors with 200, which would leave them out
 * of every error rate, so a response carrying errors is logged with the status of its gravest error
 * (BAD_USER_INPUT 400, NOT_FOUND 404, anything unknown or internal 500).
 */
export function statusOfResponse(response: GraphQLResponse): number {
  const sent = response.http.status ?? 200;
  if (sent >= 400) return sent;
  const body = response.body;
  const errors = body.kind === 'single' ? body.singleResult.errors : body.initialResult.errors;
  if (!errors?.length) return sent;
  return Math.max(...errors.map((error) => httpStatusOfCode(error.extensions?.code)));
}

/**
 * Request logs are written off the request path: rows are buffered in memory and inserted in batches every
 * `flushIntervalMs` (or as soon as `batchSize` are waiting), one batch at a time. A request never waits
 * for the database, and a database outage costs log rows, never requests: the buffer is bounded and a batch
 * that fails is dropped rather than retried forever.
 */
export function createRequestLogWriter(options: RequestLogWriterOptions): RequestLogWriter {
  const {
    orm,
    log,
    path = '/graphql',
    flushIntervalMs = 1000,
    batchSize = 500,
    maxBuffered = 10_000,
  } = options;
  let buffer: RequestLogEntry[] = [];
  let dropped = 0;
  let closed = false;
  // Batches are written one after another: each flush() runs once those before it are done.
  let writing: Promise<void> = Promise.resolve();

  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  function record(entry: RequestLogEntry): void {
    if (closed || buffer.length >= maxBuffered) {
      dropped += 1;
      return;
    }
    buffer.push(entry);
    if (buffer.length === batchSize) void flush();
  }

  function flush(): Promise<void> {
    writing = writing.then(drain);
    return writing;
  }

  async function drain(): Promise<void> {
    if (dropped > 0) {
      log?.warn({ dropped }, 'request log rows dropped: the buffer was full or the writer closed');
      dropped = 0;
    }
    while (buffer.length > 0) {
      const batch = buffer.slice(0, batchSize);
      buffer = buffer.slice(batch.length);
      await write(batch);
    }
  }

  async function write(batch: RequestLogEntry[]): Promise<void> {
    try {
      await backgroundFork(orm.em, 'request-log')
        .createQueryBuilder(RequestLog)
        .insert(batch.map(toRow))
        // Clients may send their own x-request-id; a repeated one must not cost the rest of the batch.
        .onConflict('requestId')
        .ignore()
        .execute();
    } catch (error) {
      log?.warn({ err: error, rows: batch.length }, 'request log batch could not be written; dropped');
    }
  }

  async function close(): Promise<void> {
    closed = true;
    clearInterval(timer);
    await flush();
  }

  const plugin: ApolloServerPlugin<GraphQLContext> = {
    async serverWillStart() {
      // Runs after the HTTP server has drained, so the last requests are in the buffer.
      return { serverWillStop: close };
    },
    async requestDidStart({ request }) {
      const createdAt = new Date();
      const started = performance.now();
      return {
        async willSendResponse({ response, contextValue, operationName }) {
          record({
            requestId: contextValue.requestId,
            tenantId: contextValue.viewer?.tenantId ?? null,
            apiKeyId: contextValue.viewer?.apiKeyId ?? null,
            userId: contextValue.viewer?.userId ?? null,
            method: request.http?.method ?? 'POST',
            path,
            operationName: operationName ?? request.operationName ?? null,
            statusCode: statusOfResponse(response),
            durationMs: performance.now() - started,
            createdAt,
          });
        },
      };
    },
  };

  return { plugin, record, flush, close };
}

function toRow(entry: RequestLogEntry) {
  return {
    id: randomUUID(),
    requestId: entry.requestId.slice(0, 64),
    tenantId: entry.tenantId,
    apiKeyId: entry.apiKeyId,
    userId: entry.userId,
    method: entry.method.slice(0, 10),
    path: entry.path,
    operationName: entry.operationName?.slice(0, 255) ?? null,
    statusCode: entry.statusCode,
    durationMs: entry.durationMs,
    createdAt: entry.createdAt,
    updatedAt: entry.createdAt,
  };
}
