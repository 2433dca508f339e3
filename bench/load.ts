import autocannon from 'autocannon';
import type { Sql } from './database.js';
import { hasGraphQLErrors, requestHeaders } from './graphql-http.js';
import { sleep } from './log.js';
import { cpuByPid } from './proc.js';
import type { HttpScenario } from './scenarios/scenario.js';
import type { ServerProcess } from './server-process.js';
import { type Distribution, distribution } from './stats.js';

/** One measured run of a scenario at a number of connections. */
export interface LoadRun {
  readonly connections: number;
  readonly seconds: number;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: Distribution;
  /** Non-2xx responses, 2xx responses carrying GraphQL errors, connection errors and timeouts. */
  readonly errors: number;
  readonly errorDetail: {
    readonly non2xx: number;
    readonly graphql: number;
    readonly connection: number;
    readonly timeouts: number;
    /** The first erroneous body, shortened. */
    readonly sample: string | null;
  };
  /** Whole HTTP responses (headers and body), in bytes. */
  readonly bytesPerResponse: number;
  /** CPU the server process used during the run. */
  readonly serverCpuSeconds: number;
  /** Requests answered per second of server CPU: comparable across machines and core counts. */
  readonly requestsPerCpuSecond: number;
  /** CPU of the PostgreSQL backends serving the server (those alive at the end of the run). */
  readonly postgresCpuSeconds: number;
  /** CPU of this process (autocannon) during the run: it shares the machine with the server. */
  readonly loadGeneratorCpuSeconds: number;
}

export interface LoadTarget {
  readonly server: ServerProcess;
  readonly sql: Sql;
}

/** Drives the server with `connections` connections for `seconds` seconds, back to back. */
export async function runLoad(
  scenario: HttpScenario,
  target: LoadTarget,
  connections: number,
  seconds: number,
): Promise<LoadRun> {
  const { server, sql } = target;
  const latencies: number[] = [];
  let bytes = 0;
  let non2xx = 0;
  let graphql = 0;
  let sample: string | null = null;
  const onResponse = (status: number, body: string) => {
    const failed = status < 200 || status >= 300;
    if (failed) non2xx += 1;
    else if (hasGraphQLErrors(body)) graphql += 1;
    else return;
    sample ??= `HTTP ${status}: ${body.slice(0, 300)}`;
  };
  const request: autocannon.Request = {
    method: 'POST',
    headers: requestHeaders(scenario.key),
    body: scenario.nextBody(),
    onResponse,
    ...(scenario.varies
      ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: scenario.nextBody() }) }
      : {}),
  };

  await waitUntilIdle(server);
  const backends = () => postgresBackends(sql);
  const postgresBefore = cpuByPid(await backends());
  const serverBefore = server.cpuSeconds();
  const clientBefore = process.cpuUsage();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      { url: server.url, connections, duration: seconds, timeout: 30, requests: [request] },
      (error: Error | null, done: autocannon.Result) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, responseBytes, responseTime) => {
      latencies.push(responseTime);
      bytes += responseBytes;
    });
  });
  const clientCpu = process.cpuUsage(clientBefore);
  const serverCpuSeconds = server.cpuSeconds() - serverBefore;
  let postgresCpuSeconds = 0;
  for (const [pid, after] of cpuByPid(await backends())) {
    postgresCpuSeconds += after - (postgresBefore.get(pid) ?? 0);
  }

  const requests = latencies.length;
  return {
    connections,
    seconds: result.duration,
    requests,
    requestsPerSecond: requests / result.duration,
    latencyMs: distribution(latencies),
    errors: non2xx + graphql + result.errors,
    errorDetail: { non2xx, graphql, connection: result.errors, timeouts: result.timeouts, sample },
    bytesPerResponse: requests === 0 ? 0 : bytes / requests,
    serverCpuSeconds,
    requestsPerCpuSecond: serverCpuSeconds > 0 ? requests / serverCpuSeconds : Number.NaN,
    postgresCpuSeconds,
    loadGeneratorCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
  };
}

const IDLE_SHARE = 0.05;
const IDLE_WINDOW_MS = 300;
const IDLE_TIMEOUT_MS = 60_000;

/**
 * Waits until the server uses under 5 % of a core. autocannon stops at the deadline without waiting for the
 * requests in flight, which the server still works through: they must not count in the next run.
 */
export async function waitUntilIdle(server: ServerProcess): Promise<void> {
  const deadline = Date.now() + IDLE_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const before = server.cpuSeconds();
    await sleep(IDLE_WINDOW_MS);
    if (server.cpuSeconds() - before < (IDLE_SHARE * IDLE_WINDOW_MS) / 1000) return;
  }
}

/** PostgreSQL backends connected to the bench database, except the bench's own connection. */
async function postgresBackends(sql: Sql): Promise<number[]> {
  const rows = await sql.rows<{ pid: number }>(
    'select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
  );
  return rows.map((row) => row.pid);
}
