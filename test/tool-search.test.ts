import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { encodeCursor } from '../src/graphql/pagination.js';
import { searchWords } from '../src/registry/text-search.js';
import { seedDatabase } from '../src/seed/seed-database.js';
import { SearchServersDocument, SearchToolsDocument, type SearchToolsQuery } from './sdk/graphql.js';
import { type GraphQLResponse, startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

let db: TestDatabase;
let app: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

type Hit = SearchToolsQuery['searchTools']['edges'][number]['node'];

const searchTools = (key: string, variables: { query: string; first?: number; after?: string | null }) =>
  app.graphql<SearchToolsQuery>({ query: print(SearchToolsDocument), variables, key });

const hitsOf = (response: GraphQLResponse<SearchToolsQuery>): Hit[] => {
  expect(response.errors).toBeUndefined();
  return response.data?.searchTools.edges.map((edge) => edge.node) ?? [];
};
const toolNames = (hits: Hit[]) => hits.map((hit) => hit.tool.name);

describe('searchWords', () => {
  it('splits names as search_words() does in SQL', () => {
    expect(searchWords('getWeather_forecast.v2-HTTPServer')).toEqual([
      'get',
      'weather',
      'forecast',
      'v2',
      'http',
      'server',
    ]);
    expect(searchWords('  Wether  FORCAST wether ')).toEqual(['wether', 'forcast']);
    expect(searchWords('_ % --')).toEqual([]);
  });
});

describe('searchTools over the seeded catalog', () => {
  let adminKey: string;

  beforeAll(async () => {
    // The catalog of `npm run seed` and the benchmark, smaller: 300 servers, 3,000 tools over 3 tenants.
    const report = await seedDatabase(app.orm, {
      tenants: 3,
      servers: 300,
      toolsPerServer: 10,
      requestLogs: 0,
      auditLogs: 0,
      checksPerServer: 0,
      seed: 42,
      reset: false,
    });
    adminKey = report.keys.admin.key;
  }, 120_000);

  // query -> the tools of which one must be among the first three hits
  const QUALITY: [string, string[]][] = [
    ['wether forcast', ['get_forecast', 'get_weather']],
    ['weather', ['get_weather', 'get_forecast']],
    ['getWeather', ['get_weather']],
    ['forecasts', ['get_forecast']],
    ['read file', ['read_file']],
    ['reading files', ['read_file']],
    ['create pull request', ['create_pull_request']],
    ['merge pull requests', ['merge_pull_request']],
    ['send a message', ['send_message']],
    ['screnshot', ['screenshot']],
    ['translate text', ['translate']],
    ['transcribe audio', ['transcribe_audio']],
    ['refund payments', ['refund_payment']],
    ['acknowledge alerts', ['acknowledge_alert']],
    ['serch code', ['search_code']],
    ['sql query', ['query', 'explain_query']],
    ['pod logs', ['get_pod_logs']],
    ['directry tree', ['directory_tree']],
    ['scale deployment', ['scale_deployment']],
    ['list_directory', ['list_directory']],
  ];

  it.each(QUALITY)('finds one of the expected tools for "%s" in the top 3', async (query, expected) => {
    const hits = hitsOf(await searchTools(adminKey, { query, first: 3 }));
    expect(hits).toHaveLength(3);
    expect(
      toolNames(hits).some((name) => expected.includes(name)),
      `${query}: ${toolNames(hits)}`,
    ).toBe(true);
  });

  it('ranks best first, and pages through every hit exactly once in the order of one big page', async () => {
    const query = 'list files';
    const all = await searchTools(adminKey, { query, first: 100 });
    const everything = hitsOf(all);
    const totalCount = all.data?.searchTools.totalCount ?? 0;
    expect(totalCount).toBeGreaterThan(30);
    const scores = everything.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores.every((score) => score > 0 && score < 1)).toBe(true);
    // Ties (the same tool on many servers) are common: they come in a fixed order.
    expect(new Set(scores).size).toBeLessThan(scores.length);

    const paged: Hit[] = [];
    let after: string | null = null;
    for (let pages = 0; pages < 10 && paged.length < 100; pages++) {
      const response: GraphQLResponse<SearchToolsQuery> = await searchTools(adminKey, {
        query,
        first: 7,
        after,
      });
      paged.push(...hitsOf(response));
      expect(response.data?.searchTools.totalCount).toBe(totalCount);
      after = response.data?.searchTools.pageInfo.endCursor ?? null;
      if (!response.data?.searchTools.pageInfo.hasNextPage) break;
    }
    const firstHundred = everything.slice(0, paged.length);
    expect(paged.map((hit) => hit.tool.id)).toEqual(firstHundred.map((hit) => hit.tool.id));
    expect(paged.map((hit) => hit.score)).toEqual(firstHundred.map((hit) => hit.score));
  });

  it('answers a page in a constant number of statements, whatever the page size and what it selects', async () => {
    const query = `query($query: String!, $first: Int) {
      searchTools(query: $query, first: $first) {
        totalCount
        edges { node { score tool { id name toolSchema } server { id name tenant { name } tools { name }
          circuitBreaker { state } } } }
      }
    }`;
    const page = (first: number) =>
      app.countStatements(() =>
        app.graphql<SearchToolsQuery>({ query, variables: { query: 'search', first }, key: adminKey }),
      );
    const small = await page(2);
    const large = await page(100);
    expect(large.result.errors).toBeUndefined();
    expect(large.result.data?.searchTools.edges).toHaveLength(100);
    expect(large.statements.length).toBe(small.statements.length);
    expect(large.statements.filter((sql) => /search_document @@/.test(sql))).toHaveLength(1);
    // One statement ranks, counts and reads the page with servers; one each for tenants, tools and breakers.
    expect(large.statements.length).toBeLessThanOrEqual(5);
  });
});

describe('searchTools: matching, scope and input', () => {
  let acmeKey: string;
  let limitedKey: string;
  let globexKey: string;
  let acmeWeatherId: string;

  beforeAll(async () => {
    const kit = seed(app.orm);
    const acme = await kit.tenant('acme-search');
    const globex = await kit.tenant('globex-search');
    const [weather, files] = await acme.servers([
      {
        name: 'acme-weather',
        tools: ['getWeather', 'get_forecast', 'geocode'],
        toolDescriptions: {
          getWeather: 'Current conditions at a location.',
          get_forecast: 'Weather forecast for the next days.',
          geocode: 'Coordinates of an address.',
        },
      },
      {
        name: 'acme-files',
        tools: ['read_file', 'list_directory'],
        toolDescriptions: {
          read_file: 'Read a file as text; the weather station logs are files too.',
          list_directory: 'List files and directories at a path.',
        },
      },
    ]);
    await globex.servers([
      {
        name: 'globex-weather',
        tools: ['weather_secret'],
        toolDescriptions: { weather_secret: 'Globex weather only.' },
      },
    ]);
    if (!weather || !files) throw new Error('servers not seeded');
    acmeWeatherId = weather.id;
    acmeKey = (await acme.key([ApiKeyScope.READ])).key;
    limitedKey = (await acme.key([ApiKeyScope.READ], { allowedServers: [files.id] })).key;
    globexKey = (await globex.key([ApiKeyScope.READ])).key;
  });

  it('matches word forms and typos, a word in the name above one in the description', async () => {
    const weather = hitsOf(await searchTools(acmeKey, { query: 'weather' }));
    // getWeather has it in its name; get_forecast and read_file only in their descriptions.
    expect(toolNames(weather)).toEqual(['getWeather', 'get_forecast', 'read_file']);
    expect(weather.every((hit) => hit.server.name.startsWith('acme-'))).toBe(true);
    expect(toolNames(hitsOf(await searchTools(acmeKey, { query: 'wether forcast' })))[0]).toBe(
      'get_forecast',
    );
    expect(toolNames(hitsOf(await searchTools(acmeKey, { query: 'coordinate' })))).toEqual(['geocode']);
    expect(toolNames(hitsOf(await searchTools(acmeKey, { query: 'directories' })))).toEqual([
      'list_directory',
    ]);
    expect(hitsOf(await searchTools(acmeKey, { query: 'zebra' }))).toEqual([]);
  });

  it("keeps to the key's tenant and allowed servers", async () => {
    const limited = hitsOf(await searchTools(limitedKey, { query: 'weather forecast files' }));
    expect(toolNames(limited).sort()).toEqual(['list_directory', 'read_file']);
    expect(limited.every((hit) => hit.server.name === 'acme-files')).toBe(true);
    const globex = await searchTools(globexKey, { query: 'weather' });
    expect(toolNames(hitsOf(globex))).toEqual(['weather_secret']);
    expect(globex.data?.searchTools.totalCount).toBe(1);
    // Another tenant's words correct typos (the vocabulary is shared) but find only the caller's own tools.
    expect(hitsOf(await searchTools(acmeKey, { query: 'secret' }))).toEqual([]);
    expect(hitsOf(await searchTools(acmeKey, { query: 'secrte' }))).toEqual([]);
  });

  it('finds the words of tools added and described later, typos included', async () => {
    const late = await seed(app.orm).tenant('late-search');
    await late.servers([{ name: 'late', tools: ['zeppelin_lookup'] }]);
    const lateKey = (await late.key([ApiKeyScope.READ])).key;
    expect(toolNames(hitsOf(await searchTools(lateKey, { query: 'zepelin' })))).toEqual(['zeppelin_lookup']);
    // Another tenant's word corrects the typo, and still finds only the caller's own tools.
    expect(hitsOf(await searchTools(acmeKey, { query: 'zepelin' }))).toEqual([]);

    await app.orm.em
      .fork()
      .execute("update server_tools set description = 'Finds dirigibles.' where name = 'zeppelin_lookup'");
    expect(toolNames(hitsOf(await searchTools(lateKey, { query: 'dirigible' })))).toEqual([
      'zeppelin_lookup',
    ]);
    expect(toolNames(hitsOf(await searchTools(lateKey, { query: 'dirigables' })))).toEqual([
      'zeppelin_lookup',
    ]);
  });

  it('matches servers(filter: { search }) the same way, by server and by tool', async () => {
    const search = (text: string, key = acmeKey) =>
      app.graphql<{ servers: { edges: { node: { name: string } }[] } }>({
        query: print(SearchServersDocument),
        variables: { search: text },
        key,
      });
    const names = async (text: string, key = acmeKey) => {
      const response = await search(text, key);
      expect(response.errors).toBeUndefined();
      return response.data?.servers.edges.map((edge) => edge.node.name) ?? [];
    };
    expect(await names('wether')).toEqual(['acme-files', 'acme-weather']);
    expect(await names('forcast')).toEqual(['acme-weather']);
    expect(await names('directories')).toEqual(['acme-files']);
    // Literally, or every word (here "acme" and, corrected, "file").
    expect(await names('acme-fil')).toEqual(['acme-files']);
    expect(await names('forecast files')).toEqual([]);
    expect(await names('forecast geocode')).toEqual(['acme-weather']);
    expect(await names('weather', limitedKey)).toEqual(['acme-files']);
    expect(await names('weather', globexKey)).toEqual(['globex-weather']);
  });

  it('answers bad input with BAD_USER_INPUT', async () => {
    const valid = encodeCursor({ sortValue: 0.5, id: acmeWeatherId });
    const cases: [Record<string, unknown>, string][] = [
      [{ query: '' }, 'query'],
      [{ query: '   ' }, 'query'],
      [{ query: '_ % --' }, 'query'],
      [{ query: 'x'.repeat(201) }, 'query'],
      [{ query: Array.from({ length: 11 }, (_, index) => `word${index}`).join(' ') }, 'query'],
      [{ query: 'weather', first: -1 }, 'first'],
      [{ query: 'weather', first: 101 }, 'first'],
      [{ query: 'weather', after: 'not a cursor' }, 'after'],
      [{ query: 'weather', after: encodeCursor({ sortValue: 'high', id: acmeWeatherId }) }, 'after'],
      [{ query: 'weather', after: encodeCursor({ sortValue: null, id: acmeWeatherId }) }, 'after'],
    ];
    for (const [variables, field] of cases) {
      const response = await app.graphql({ query: print(SearchToolsDocument), variables, key: acmeKey });
      expect(response.errors?.[0]?.extensions, JSON.stringify(variables)).toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
      });
    }
    expect((await searchTools(acmeKey, { query: 'weather', after: valid })).errors).toBeUndefined();
    // Punctuation and operators of tsquery syntax are only separators.
    expect(
      toolNames(hitsOf(await searchTools(acmeKey, { query: "weather' | !( & <-> :* \\" }))).sort(),
    ).toEqual(['getWeather', 'get_forecast', 'read_file'].sort());
  });
});
