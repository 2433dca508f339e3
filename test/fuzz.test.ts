import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import {
  caseRandom,
  type FuzzKit,
  fuzzKit,
  type HttpProbe,
  httpCase,
  type WsCase,
  wsCase,
} from './support/fuzz.js';
import { errorProblems, type HttpAnswer, httpProblems, leaksIn, sendProbe } from './support/fuzz-answers.js';
import { seed } from './support/seed.js';

/**
 * Thousands of malformed and random requests against the real app: every answer must be a clean GraphQL
 * error (JSON, a message and an `extensions.code`, no 5xx, nothing internal), the process must survive,
 * and nothing may change. Replay a failure with the seed and case it prints:
 * `FUZZ_SEED=<seed> FUZZ_CASE=<index> npx vitest run test/fuzz.test.ts`.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20_240_611);
const HTTP_CASES = Number(process.env.FUZZ_CASES ?? 3000);
const WS_CASES = Number(process.env.FUZZ_WS_CASES ?? 200);
/** One case alone (HTTP and websocket case of that index), to replay a failure. */
const ONLY = process.env.FUZZ_CASE === undefined ? null : Number(process.env.FUZZ_CASE);
const HTTP_BATCH = 400;
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 6);

let db: TestDatabase;
let app: TestApp;
let kit: FuzzKit;
let agent: http.Agent;
let before: Snapshot;
let startedAt: Date;
const crashes: string[] = [];
const onCrash = (error: unknown) =>
  crashes.push(error instanceof Error ? (error.stack ?? error.message) : String(error));

beforeAll(async () => {
  process.on('unhandledRejection', onCrash);
  process.on('uncaughtException', onCrash);
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const acme = await seed(app.orm).tenant('acme');
  const globex = await seed(app.orm).tenant('globex');
  const acmeServers = await acme.servers([
    { name: 'search', tools: ['query', 'index'], resources: ['file:///docs/{path}'], tags: ['prod'] },
    { name: 'files', tools: ['read'], resources: ['file:///readme.md'] },
  ]);
  const globexServers = await globex.servers([{ name: 'billing', tools: ['charge'] }]);
  await acme.user('ada');
  const tenantKey = await acme.key();
  kit = fuzzKit({
    adminKey: ADMIN_KEY,
    tenantKey: tenantKey.key,
    tenantIds: [acme.id, globex.id],
    serverIds: [...acmeServers, ...globexServers].map((server) => server.id),
  });
  agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  // Both keys once, so the background `lastUsedAt` writes happen before the snapshot.
  for (const key of [ADMIN_KEY, tenantKey.key]) {
    expect((await app.graphql({ query: '{ viewer { apiKey { id } } }', key })).errors).toBeUndefined();
  }
  before = await snapshot();
  startedAt = new Date();
});

afterAll(async () => {
  agent?.destroy();
  await app?.close();
  await db?.drop();
  process.off('unhandledRejection', onCrash);
  process.off('uncaughtException', onCrash);
});

// ---------------------------------------------------------------------------------------------------------

function describeProbe(probe: HttpProbe): string {
  const body =
    probe.body === undefined
      ? ''
      : typeof probe.body === 'string'
        ? probe.body
        : `<${probe.body.length} bytes> ${probe.body.toString('hex').slice(0, 80)}`;
  const headers = Object.entries(probe.headers)
    .map(
      ([name, value]) => `${name}: ${value.length > 80 ? `${value.slice(0, 80)}…(${value.length})` : value}`,
    )
    .join('; ');
  return `${probe.method} ${probe.path.slice(0, 200)} [${headers}] ${body.slice(0, 300)}${body.length > 300 ? `…(${body.length})` : ''}`;
}

/** Runs `work` over `items` with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function indexes(count: number): number[] {
  return ONLY === null ? Array.from({ length: count }, (_, i) => i) : [ONLY];
}

/** `[label, indexes]` per batch of at most `size` indexes. */
function batches(all: readonly number[], size: number): [string, number[]][] {
  const result: [string, number[]][] = [];
  for (let i = 0; i < all.length; i += size) {
    const batch = all.slice(i, i + size);
    result.push([`${batch[0]}-${batch.at(-1)}`, batch]);
  }
  return result;
}

function report(kind: string, failures: string[], total: number): string {
  const shown = failures.slice(0, 15).join('\n\n');
  return `${failures.length} of ${total} ${kind} cases failed (FUZZ_SEED=${SEED}; replay one with FUZZ_SEED=${SEED} FUZZ_CASE=<index> npx vitest run test/fuzz.test.ts):\n\n${shown}`;
}

// ---------------------------------------------------------------------------------------------------------
// graphql-ws

interface WsOutcome {
  readonly messages: string[];
  readonly closeCode: number | null;
  readonly closeReason: string;
}

/** How long a case waits for answers to its subscribes: only a bound on collecting, never asserted on. */
const WS_SETTLE_MS = 2000;

async function runWsCase(fuzzCase: WsCase): Promise<WsOutcome> {
  const socket = new WebSocket(app.url.replace('http', 'ws'), fuzzCase.protocols);
  const messages: string[] = [];
  let closeCode: number | null = null;
  let closeReason = '';
  let wake: (() => void) | null = null;
  const changed = () => {
    const waiting = wake;
    wake = null;
    waiting?.();
  };
  const until = (condition: () => boolean, deadline = Number.POSITIVE_INFINITY) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (condition() || closeCode !== null || refused !== null || Date.now() > deadline) resolve();
        else {
          wake = check;
          if (deadline !== Number.POSITIVE_INFINITY) setTimeout(() => wake === check && changed(), 50);
        }
      };
      check();
    });
  socket.on('message', (data: WebSocket.RawData) => {
    messages.push(String(data));
    changed();
  });
  socket.on('close', (code, reason) => {
    closeCode = code;
    closeReason = String(reason);
    changed();
  });
  // An error before the socket opened (the handshake was refused) may come without a close event.
  let refused: string | null = null;
  socket.on('error', (error) => {
    if (socket.readyState !== WebSocket.OPEN) refused = error.message;
    changed();
  });
  let opened = false;
  socket.on('open', () => {
    opened = true;
    changed();
  });
  await until(() => opened);

  const sentIds = new Set<string>();
  for (const step of fuzzCase.steps) {
    if (closeCode !== null || socket.readyState !== WebSocket.OPEN) break;
    if ('awaitAck' in step) {
      await until(() => messages.some((message) => message.includes('"connection_ack"')));
      continue;
    }
    const text = typeof step.send === 'string' ? step.send : null;
    const id = text === null ? null : /"id":"([^"]*)","type":"subscribe"/.exec(text)?.[1];
    if (id) sentIds.add(id);
    await new Promise<void>((resolve) => socket.send(step.send, () => resolve()));
  }
  const answered = () =>
    [...sentIds].every((id) => messages.some((message) => message.includes(`"id":"${id}"`)));
  await until(answered, Date.now() + WS_SETTLE_MS);
  if (socket.readyState === WebSocket.OPEN) {
    // A ping answered means every message before it was handled without taking the socket down.
    const pongs = () => messages.filter((message) => message.includes('"pong"')).length;
    const seen = pongs();
    socket.send(JSON.stringify({ type: 'ping' }));
    await until(() => pongs() > seen);
  }
  if (closeCode === null && refused === null) {
    socket.close(1000);
    await until(() => false);
  }
  return { messages, closeCode, closeReason: closeReason || (refused ?? '') };
}

function wsProblems(outcome: WsOutcome): string[] {
  const problems = [...outcome.messages, outcome.closeReason].flatMap(leaksIn);
  if (outcome.closeCode === 1011 || outcome.closeCode === 4500) {
    problems.push(`closed with ${outcome.closeCode} (${outcome.closeReason})`);
  }
  for (const text of outcome.messages) {
    let message: { type?: unknown; payload?: { errors?: unknown } | unknown[] };
    try {
      message = JSON.parse(text);
    } catch {
      problems.push(`a message that is not JSON: ${text.slice(0, 200)}`);
      continue;
    }
    if (message.type === 'error') problems.push(...errorProblems(message.payload));
    if (message.type === 'next') {
      const payload = message.payload as { errors?: unknown } | undefined;
      if (payload?.errors !== undefined) problems.push(...errorProblems(payload.errors));
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------

interface Snapshot {
  readonly tables: Record<string, string>;
}

/** Every row of the tables a request could change, as one digest per table. */
async function snapshot(): Promise<Snapshot> {
  const tables: Record<string, string> = {};
  const em = app.orm.em.fork();
  for (const table of [
    'tenants',
    'users',
    'api_keys',
    'mcp_servers',
    'server_tools',
    'server_resources',
    'server_prompts',
    'circuit_breakers',
    'health_checks',
    'routing_rules',
    'routing_rule_targets',
  ]) {
    // A key's lastUsedAt is written in the background as it is used: that is not a change a request made.
    const [row] = await em.execute<{ rows: string; digest: string }[]>(
      `select count(*)::text as rows,
              md5(coalesce(string_agg((to_jsonb(t) - 'last_used_at' - (case when '${table}' = 'api_keys' then 'updated_at' else '' end))::text, ',' order by t.id), '')) as digest
       from ${table} t`,
    );
    tables[table] = `${row?.rows} rows, ${row?.digest}`;
  }
  return { tables };
}

describe(`fuzzing with seed ${SEED}`, () => {
  // In batches, so each test stays well inside the test timeout on a busy machine.
  it.each(batches(indexes(HTTP_CASES), HTTP_BATCH))(
    'answers HTTP cases %s with clean GraphQL errors',
    async (_range, batch) => {
      const cases = batch.map((index) => httpCase(caseRandom(SEED, index), kit, index));
      const failures: string[] = [];
      await pool(cases, CONCURRENCY, async (fuzzCase) => {
        let problems: string[];
        let answer: HttpAnswer | null = null;
        try {
          answer = await sendProbe(app.origin, agent, fuzzCase.probe);
          problems = httpProblems(fuzzCase, answer);
        } catch (error) {
          problems = [`the request failed: ${error instanceof Error ? error.message : String(error)}`];
        }
        if (problems.length > 0) {
          failures.push(
            `case ${fuzzCase.index} (${fuzzCase.family}: ${fuzzCase.label}): ${[...new Set(problems)].join('; ')}\n` +
              `  request: ${describeProbe(fuzzCase.probe)}\n` +
              `  answer: ${answer === null ? '-' : `${answer.status} ${answer.text.slice(0, 400)}`}`,
          );
        }
      });
      expect(failures, report('HTTP', failures, cases.length)).toEqual([]);
    },
  );

  it(`survives ${ONLY === null ? WS_CASES : 1} malformed graphql-ws sessions`, async () => {
    const cases = indexes(WS_CASES).map((index) => wsCase(caseRandom(SEED, 1_000_000 + index), kit, index));
    const failures: string[] = [];
    await pool(cases, CONCURRENCY, async (fuzzCase) => {
      const outcome = await runWsCase(fuzzCase);
      const problems = wsProblems(outcome);
      if (problems.length > 0) {
        failures.push(
          `ws case ${fuzzCase.index} (${fuzzCase.label}): ${[...new Set(problems)].join('; ')}\n` +
            `  sent: ${fuzzCase.steps.map((step) => ('send' in step ? String(step.send).slice(0, 200) : '<await ack>')).join(' | ')}\n` +
            `  received: ${outcome.messages.join(' | ').slice(0, 600)} / closed ${outcome.closeCode} ${outcome.closeReason}`,
        );
      }
    });
    expect(failures, report('websocket', failures, cases.length)).toEqual([]);
  });

  it('leaves the process serving, and the data as it was', async () => {
    expect(crashes).toEqual([]);
    const healthz = await fetch(`${app.origin}/healthz`);
    expect(healthz.status).toBe(200);
    const viewer = await app.graphql({ query: '{ viewer { apiKey { name } } servers { totalCount } }' });
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data).toEqual({
      viewer: { apiKey: { name: 'ADMIN_API_KEY' } },
      servers: { totalCount: 3 },
    });
    expect(await snapshot()).toEqual(before);
    const [audited] = await app.orm.em
      .fork()
      .execute<{ count: string }[]>(
        'select count(*)::text as count from audit_logs where success and created_at >= ?',
        [startedAt],
      );
    expect(audited?.count).toBe('0');
  });
});
