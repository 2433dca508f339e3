import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import type { SeedKeys } from '../src/seed/seed-database.js';
import { type AgentResult, measureAgents } from './agents.js';
import { checkCompiledMigrations } from './build-check.js';
import { readKeys, recreateDatabase, type SeedSummary, Sql, seedBenchDatabase } from './database.js';
import { type ExplainedStatement, explainStatements } from './explain.js';
import { postGraphQL } from './graphql-http.js';
import { type LoadTarget, runLoad, waitUntilIdle } from './load.js';
import { progress } from './log.js';
import { machineInfo } from './machine.js';
import { type BenchOptions, parseOptions, type ScenarioName, USAGE, UsageError } from './options.js';
import {
  PROFILE_FILE,
  PROJECT_ROOT,
  README_FILE,
  REFERENCE_SERVER_ENTRY,
  shownPath,
  WORK_DIR,
} from './paths.js';
import { type ProfileSummary, profileWhile, summariseProfile } from './profile.js';
import { renderReadme } from './readme.js';
import { printAgents, printProfile, printScenario, printSubscriptions, printTargets } from './report.js';
import { type BenchResults, type HttpScenarioResult, readResults, writeResults } from './results.js';
import { dashboardOverviewScenario } from './scenarios/dashboard-overview.js';
import { discoverServersScenario } from './scenarios/discover-servers.js';
import { registerServerScenario, removeRegisteredServers } from './scenarios/register-server.js';
import type { HttpScenario, ScenarioContext } from './scenarios/scenario.js';
import { searchToolsScenario } from './scenarios/search-tools.js';
import { serverListScenario } from './scenarios/server-list.js';
import { type ServerProcess, startServer } from './server-process.js';
import { countStatements, type StatementCount } from './statements.js';
import { runSubscriptions, type SubscriptionResult } from './subscriptions.js';
import { evaluateTargets } from './targets.js';

const SERVER_DESCRIPTION = 'node dist/src/main.js, NODE_ENV=production, HEALTH_CHECKER=off, LOG_LEVEL=warn';

async function main(argv: readonly string[]): Promise<void> {
  const options = parseOptions(argv);
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  if (options.readmeOnly) {
    await renderReadme(README_FILE, await readResults(options.resultsFile));
    progress('readme', `${shownPath(README_FILE)} rendered from ${shownPath(options.resultsFile)}`);
    return;
  }
  const startedAt = new Date().toISOString();
  await checkCompiledMigrations();
  const { keys, seed } = await prepareDatabase(options);
  const sql = await Sql.connect(options.databaseUrl);
  try {
    const context: ScenarioContext = { sql, keys, runId: randomBytes(4).toString('hex') };
    const scenarios = await httpScenarios(options.scenarios, context);
    await removeRegisteredServers(sql);

    progress('statements', 'counting SQL per request in an in-process app (startApp with onQuery)');
    const counts = await countStatements(options.databaseUrl, scenarios);
    await cleanUp(scenarios);
    const explains: ExplainedStatement[] = [];
    for (const scenario of scenarios.filter((candidate) => candidate.explain)) {
      const count = counts.find((candidate) => candidate.scenario === scenario.name);
      if (count) explains.push(...(await explainStatements(sql, scenario.name, count.executed)));
    }
    progress('explain', `${explains.length} statements explained`);

    const server = await startServer({ databaseUrl: options.databaseUrl, redisUrl: options.redisUrl });
    const machine = await machineInfo(sql);
    const measured: HttpScenarioResult[] = [];
    let subscriptions: SubscriptionResult | null = null;
    let agents: AgentResult | null = null;
    try {
      for (const scenario of scenarios) {
        measured.push(await measureScenario(scenario, counts, { server, sql }, options));
      }
      if (options.scenarios.includes('subscriptions')) {
        subscriptions = await measureSubscriptions(sql, keys, options);
        printSubscriptions(subscriptions);
      }
      if (options.scenarios.includes('agents')) {
        agents = await measureAgents(server, keys, options);
        printAgents(agents);
      }
    } finally {
      await server.stop();
    }

    const serverLists = scenarios.filter((scenario) => SERVER_LISTS.includes(scenario.name));
    const references = options.reference ? await measureReference(serverLists, sql, options) : [];
    const [profiled] = serverLists;
    const profile = options.profile && profiled ? await profileServerList(profiled, sql, options) : null;
    if (profile) printProfile(profile);

    const targets = evaluateTargets({ scenarios: measured, references, explains, subscriptions, agents });
    printTargets(targets);
    const results: BenchResults = {
      version: 1,
      startedAt,
      finishedAt: new Date().toISOString(),
      command: ['npm run bench', ...(argv.length > 0 ? ['--', ...argv] : [])].join(' '),
      machine,
      settings: {
        database: withoutPassword(options.databaseUrl),
        reused: options.reuse,
        seed,
        seedOptions: options.reuse
          ? null
          : {
              tenants: options.tenants,
              servers: options.servers,
              toolsPerServer: options.toolsPerServer,
              requestLogs: options.requestLogs,
            },
        durationSeconds: options.duration,
        repeat: options.repeat,
        warmupSeconds: options.warmup,
        connections: options.connections,
        eventBus: options.redisUrl === null ? 'in-process' : `Redis (${withoutPassword(options.redisUrl)})`,
        server: SERVER_DESCRIPTION,
      },
      scenarios: measured,
      references,
      subscriptions,
      agents,
      explains,
      profile,
      targets,
    };
    await writeResults(options.resultsFile, results);
    await renderReadme(README_FILE, results);
    progress('done', `results in ${shownPath(options.resultsFile)}, ${shownPath(README_FILE)} rendered`);
  } finally {
    await sql.close();
  }
}

async function prepareDatabase(options: BenchOptions): Promise<{ keys: SeedKeys; seed: SeedSummary | null }> {
  if (options.reuse) {
    progress('database', `reusing ${withoutPassword(options.databaseUrl)}`);
    return { keys: await readKeys(options.keysFile), seed: null };
  }
  progress('database', `dropping and creating ${withoutPassword(options.databaseUrl)}`);
  await recreateDatabase(options.databaseUrl);
  progress(
    'seed',
    `${options.tenants} tenants, ${options.servers} servers × ${options.toolsPerServer} tools, ` +
      `${options.requestLogs} request logs`,
  );
  const { keys, summary } = await seedBenchDatabase(options);
  return { keys, seed: summary };
}

/** The scenarios of the dashboard's server page, also run on the reference server and profiled. */
const SERVER_LISTS: readonly ScenarioName[] = ['server-list', 'server-list-schemas'];

async function httpScenarios(
  names: readonly ScenarioName[],
  context: ScenarioContext,
): Promise<HttpScenario[]> {
  const scenarios: HttpScenario[] = [];
  for (const name of names) {
    if (name === 'server-list') scenarios.push(serverListScenario(context, { toolSchemas: false }));
    if (name === 'server-list-schemas') scenarios.push(serverListScenario(context, { toolSchemas: true }));
    if (name === 'discover') scenarios.push(await discoverServersScenario(context));
    if (name === 'search') scenarios.push(searchToolsScenario(context));
    if (name === 'dashboard') scenarios.push(dashboardOverviewScenario(context));
    if (name === 'register') scenarios.push(registerServerScenario(context));
  }
  return scenarios;
}

async function cleanUp(scenarios: readonly HttpScenario[]): Promise<void> {
  for (const scenario of scenarios) await scenario.cleanUp?.();
}

/** Checks one answer, warms up, then runs at each connection count and prints the table. */
async function measureScenario(
  scenario: HttpScenario,
  counts: readonly StatementCount[],
  target: LoadTarget,
  options: BenchOptions,
): Promise<HttpScenarioResult> {
  const body = scenario.nextBody();
  const check = await scenario.verify(await postGraphQL(target.server.url, scenario.key, body), body);
  progress(scenario.title, `checked: ${check}`);
  const busiest = Math.max(...options.connections);
  let warmup = { seconds: 0, requests: 0, errors: 0 };
  if (options.warmup > 0) {
    progress(scenario.title, `warming up for ${options.warmup} s at ${busiest} connections`);
    const run = await runLoad(scenario, target, busiest, options.warmup);
    warmup = { seconds: run.seconds, requests: run.requests, errors: run.errors };
    if (run.errors > 0)
      progress(scenario.title, `${run.errors} errors while warming up: ${run.errorDetail.sample}`);
  }
  const runs = [];
  for (const connections of options.connections) {
    for (let repeat = 1; repeat <= options.repeat; repeat += 1) {
      progress(
        scenario.title,
        `${options.duration} s at ${connections} connection${connections === 1 ? '' : 's'} ` +
          `(run ${repeat} of ${options.repeat})`,
      );
      runs.push(await runLoad(scenario, target, connections, options.duration));
    }
  }
  // Requests autocannon abandoned at the deadline may still be running: let them finish first.
  await waitUntilIdle(target.server);
  await scenario.cleanUp?.();
  const count = counts.find((candidate) => candidate.scenario === scenario.name);
  const result: HttpScenarioResult = {
    name: scenario.name,
    title: scenario.title,
    description: scenario.description,
    check,
    statementsPerRequest: count?.perRequest ?? Number.NaN,
    statementSamples: count?.samples ?? [],
    statements: count?.statements ?? [],
    warmup,
    runs,
  };
  printScenario(result);
  return result;
}

/**
 * The subscription burst on a server of its own, fresh (its memory is not the HTTP scenarios') and with the
 * inspector open, through which the scenario reads the heap the server retains.
 */
async function measureSubscriptions(
  sql: Sql,
  keys: SeedKeys,
  options: BenchOptions,
): Promise<SubscriptionResult> {
  const server = await startServer({
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    inspect: true,
  });
  try {
    return await runSubscriptions({
      server,
      sql,
      keys,
      subscribers: options.subscribers,
      burst: options.burst,
    });
  } finally {
    await server.stop();
  }
}

/**
 * The ServerList scenarios on the hand-written reference server (bench/reference-server.ts), checked and loaded
 * exactly as on the registry: the yardstick that makes CPU per request comparable with the machine.
 */
async function measureReference(
  serverLists: readonly HttpScenario[],
  sql: Sql,
  options: BenchOptions,
): Promise<HttpScenarioResult[]> {
  if (serverLists.length === 0) return [];
  const server = await startServer({
    databaseUrl: options.databaseUrl,
    redisUrl: null,
    entry: REFERENCE_SERVER_ENTRY,
  });
  try {
    const measured: HttpScenarioResult[] = [];
    for (const serverList of serverLists) {
      const reference = { ...serverList, title: `${serverList.title} on the reference server` };
      measured.push(await measureScenario(reference, [], { server, sql }, options));
    }
    return measured;
  } finally {
    await server.stop();
  }
}

/** ServerList at the highest connection count on a server with the inspector open, profiled after a warm-up. */
async function profileServerList(
  scenario: HttpScenario,
  sql: Sql,
  options: BenchOptions,
): Promise<ProfileSummary> {
  const server: ServerProcess = await startServer({
    databaseUrl: options.databaseUrl,
    redisUrl: options.redisUrl,
    inspect: true,
  });
  try {
    const connections = Math.max(...options.connections);
    const target = { server, sql };
    progress(
      'profile',
      `warming up, then profiling ServerList for ${options.duration} s at ${connections} connections`,
    );
    await runLoad(scenario, target, connections, Math.max(options.warmup, 1));
    const inspectorUrl = server.inspectorUrl;
    if (inspectorUrl === null) throw new Error('the profiled server has no inspector');
    const profile = await profileWhile(inspectorUrl, async () => {
      await runLoad(scenario, target, connections, options.duration);
    });
    await mkdir(WORK_DIR, { recursive: true });
    await writeFile(PROFILE_FILE, JSON.stringify(profile));
    progress('profile', `kept in ${shownPath(PROFILE_FILE)} (open it in Chrome DevTools, Performance tab)`);
    return summariseProfile(profile, PROJECT_ROOT);
  } finally {
    await server.stop();
  }
}

function withoutPassword(url: string): string {
  const parsed = new URL(url);
  if (parsed.password !== '') parsed.password = '***';
  return parsed.toString();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
  else if (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS')) {
    console.error(`${error.message}\n\n${USAGE}`);
  } else console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
});
