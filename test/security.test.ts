import {
  type GraphQLInputType,
  type GraphQLSchema,
  getIntrospectionQuery,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type OperationDefinitionNode,
  parse,
  print,
  typeFromAST,
} from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { AuditLog } from '../src/audit/audit-log.entity.js';
import { ApiKey } from '../src/auth/api-key.entity.js';
import { checkOperation, OPERATION_LIMITS } from '../src/graphql/limits.js';
import { operationCost } from '../src/graphql/operation-cost.js';
import { MAX_PAGE_SIZE } from '../src/graphql/pagination.js';
import { createLogger } from '../src/logger.js';
import { createEventBus } from '../src/pubsub/pubsub.js';
import { buildAppSchema } from '../src/schema.js';
import { Tenant } from '../src/tenants/tenant.entity.js';
import { UnlockApiKeyDocument } from './sdk/graphql.js';
import { ADMIN_KEY, startTestApp, type TestApp } from './support/app.js';
import { contractOperations } from './support/contract-operations.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

const MAX_FAILED_ATTEMPTS = 3;
const VIEWER = '{ viewer { apiKey { id } } }';

let db: TestDatabase;
/** Trusts its loopback peer as a proxy, so `x-forwarded-for` stands for other client addresses. */
let app: TestApp;
/** NODE_ENV=production and no trusted proxies: the defaults an operator gets. */
let production: TestApp;
let acme: Awaited<ReturnType<ReturnType<typeof seed>['tenant']>>;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target, {
    TRUSTED_PROXIES: '127.0.0.1, ::1',
    MAX_FAILED_ATTEMPTS: String(MAX_FAILED_ATTEMPTS),
  });
  production = await startTestApp(db.target, { NODE_ENV: 'production', MIGRATE_ON_START: 'false' });
  acme = await seed(app.orm).tenant('acme');
});

afterAll(async () => {
  await production?.close();
  await app?.close();
  await db?.drop();
});

const em = () => app.orm.em.fork();
const errorsOf = (response: { errors?: { extensions?: Record<string, unknown> }[] }) =>
  response.errors?.map((error) => error.extensions) ?? [];
/** A distinct client address per call, so the audit throttle never hides a row a test looks for. */
let addressCounter = 0;
const nextAddress = () => `198.51.100.${++addressCounter}`;
const from = (address: string) => ({ 'x-forwarded-for': address });

describe('operation limits', () => {
  const operations = contractOperations();

  it('finds the contract operations', () => {
    expect(operations.length).toBeGreaterThan(20);
  });

  it.each(operations)('lets the contract operation $name through every limit', async ({ query }) => {
    // Variables are left out: operations that need them stop at variable coercion, after validation.
    const response = await app.graphql({ query });
    const codes = errorsOf(response).map((extensions) => extensions?.code);
    expect(codes).not.toContain('GRAPHQL_VALIDATION_FAILED');
    expect(codes).not.toContain('GRAPHQL_PARSE_FAILED');
  });

  it('keeps headroom: every contract operation passes at half the cost and token limits, two levels less depth, with its largest pages', async () => {
    const eventBus = createEventBus(undefined, createLogger('silent'));
    const schema = await buildAppSchema(eventBus.pubSub);
    await eventBus.close();
    const tight = {
      ...OPERATION_LIMITS,
      maxDepth: OPERATION_LIMITS.maxDepth - 2,
      maxCost: OPERATION_LIMITS.maxCost / 2,
      maxTokens: OPERATION_LIMITS.maxTokens / 2,
    };
    for (const { name, query, definition } of operations) {
      const variables = largestPageVariables(schema, definition);
      expect(operationCost(schema, parse(query), name, variables), name).not.toBeNull();
      const checked = checkOperation(schema, query, { introspection: false, limits: tight, variables });
      expect({ name, errors: 'errors' in checked ? checked.errors.map((e) => e.message) : [] }).toEqual({
        name,
        errors: [],
      });
    }
  });

  it('costs the same whether a page size is written in the operation or passed as a variable', async () => {
    const selection = 'edges { node { id name tools { name } circuitBreaker { state } } }';
    const literal = await app.graphql({ query: `{ servers(first: 100) { ${selection} } }` });
    const variable = await app.graphql({
      query: `query ($first: Int) { servers(first: $first) { ${selection} } }`,
      variables: { first: 100 },
    });
    expect(literal.errors).toBeUndefined();
    expect(variable.errors).toBeUndefined();
    // Over the limit either way: a variable does not slip a costly page past it.
    const costly = `healthHistory(last: 100) { status responseTimeMs checkedAt error }`;
    const costlyLiteral = await app.graphql({
      query: `{ servers(first: 100) { edges { node { id ${costly} } } } }`,
    });
    const costlyVariable = await app.graphql({
      query: `query ($first: Int, $last: Int) { servers(first: $first) { edges { node { id healthHistory(last: $last) { status responseTimeMs checkedAt error } } } } }`,
      variables: { first: 100, last: 100 },
    });
    for (const response of [costlyLiteral, costlyVariable]) {
      expect(response.status).toBe(400);
      expect(errorsOf(response)).toEqual([
        expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_COST' }),
      ]);
    }
    expect(costlyLiteral.errors?.[0]?.message).toBe(costlyVariable.errors?.[0]?.message);
    expect(costlyLiteral.errors?.[0]?.message).toMatch(/\(found \d+\)\. Split/);
  });

  it('costs one parsed document by the variables of each request, not by those it was costed with before', async () => {
    const eventBus = createEventBus(undefined, createLogger('silent'));
    const schema = await buildAppSchema(eventBus.pubSub);
    await eventBus.close();
    const document = parse('query ($first: Int) { servers(first: $first) { edges { node { id name } } } }');
    const small = operationCost(schema, document, undefined, { first: 1 });
    const large = operationCost(schema, document, undefined, { first: 100 });
    expect(small).not.toBeNull();
    expect(large).toBeGreaterThan(small ?? Number.POSITIVE_INFINITY);
    expect(operationCost(schema, document, undefined, { first: 1 })).toBe(small);
    expect(operationCost(schema, document, undefined, { first: 'many' })).toBeNull();
    expect(operationCost(schema, document, undefined, { first: 100 })).toBe(large);
  });

  const nested = (levels: number, leaf = 'name') =>
    `${'ofType { '.repeat(levels)}${leaf}${' }'.repeat(levels)}`;

  it.each([
    [
      'too deep',
      'MAX_DEPTH',
      `{ __type(name: "Query") { fields { type { ${nested(OPERATION_LIMITS.maxDepth)} } } } }`,
    ],
    [
      'too deep inside a fragment named __schema',
      'MAX_DEPTH',
      `{ __type(name: "Query") { fields { type { ...__schema } } } }
       fragment __schema on __Type { ${nested(OPERATION_LIMITS.maxDepth)} }`,
    ],
    [
      'too deep in an operation named __schema',
      'MAX_DEPTH',
      `query __schema { __type(name: "Query") { fields { type { ${nested(OPERATION_LIMITS.maxDepth)} } } } }`,
    ],
    [
      'too deep through a fragment reused deeper than it was first seen',
      'MAX_DEPTH',
      `{ __type(name: "Query") { ...Deep fields { type { ${nested(3, '...Deep')} } } } }
       fragment Deep on __Type { ${nested(OPERATION_LIMITS.maxDepth - 4)} }`,
    ],
    [
      'too many aliases',
      'MAX_ALIASES',
      `{ ${Array.from({ length: OPERATION_LIMITS.maxAliases + 1 }, (_, i) => `a${i}: viewer { apiKey { id } }`).join(' ')} }`,
    ],
    [
      'too many directives',
      'MAX_DIRECTIVES',
      `{ viewer { apiKey { ${Array.from({ length: OPERATION_LIMITS.maxDirectives + 1 }, (_, i) => `d${i}: id @include(if: true)`).join(' ')} } } }`,
    ],
    [
      'too costly',
      'MAX_COST',
      '{ servers(first: 100) { edges { node { id healthHistory(last: 100) { status responseTimeMs checkedAt } } } } }',
    ],
  ])(
    'rejects an operation %s with GRAPHQL_VALIDATION_FAILED and limit %s, before running it',
    async (_label, limit, query) => {
      const { key } = await acme.key();
      const { statements, result } = await app.countStatements(() => app.graphql({ query, key }));
      expect(result.status).toBe(400);
      expect(result.data ?? null).toBeNull();
      expect(errorsOf(result)).toContainEqual(
        expect.objectContaining({ code: 'GRAPHQL_VALIDATION_FAILED', limit }),
      );
      // Authentication reads the key; nothing of the operation itself reaches the database.
      expect(statements).toHaveLength(1);
    },
  );

  it('rejects a document with too many tokens while parsing (GRAPHQL_PARSE_FAILED, limit MAX_TOKENS)', async () => {
    const query = `{ viewer { apiKey { ${'id '.repeat(OPERATION_LIMITS.maxTokens)} } } }`;
    const response = await app.graphql({ query });
    expect(response.status).toBe(400);
    expect(errorsOf(response)).toEqual([
      expect.objectContaining({
        code: 'GRAPHQL_PARSE_FAILED',
        limit: 'MAX_TOKENS',
        max: OPERATION_LIMITS.maxTokens,
      }),
    ]);
  });

  it('applies the same limits to operations over graphql-ws', async () => {
    const client = createClient({
      url: app.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    try {
      const run = (query: string) =>
        new Promise<unknown>((resolve) => {
          client.subscribe({ query }, { next: resolve, error: resolve, complete: () => {} });
        });
      const deep = await run(
        `query __schema { __type(name: "Query") { fields { type { ${nested(OPERATION_LIMITS.maxDepth)} } } } }`,
      );
      expect(deep).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ limit: 'MAX_DEPTH' }) }),
      ]);
      const tokens = await run(`{ viewer { ${'__typename '.repeat(OPERATION_LIMITS.maxTokens)} } }`);
      expect(tokens).toEqual([
        expect.objectContaining({ extensions: expect.objectContaining({ limit: 'MAX_TOKENS' }) }),
      ]);
      expect(await run('{ viewer { apiKey { name } } }')).toMatchObject({
        data: { viewer: { apiKey: { name: 'ADMIN_API_KEY' } } },
      });
    } finally {
      await client.dispose();
    }
  });

  it('exempts only the real __schema field from depth: the standard introspection query passes', async () => {
    const response = await app.graphql({ query: getIntrospectionQuery() });
    expect(response.errors).toBeUndefined();
  });
});

describe('HTTP request shapes', () => {
  it('refuses batched requests (an array body)', async () => {
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify([{ query: VIEWER }, { query: VIEWER }]),
    });
    expect(response.status).toBe(400);
    const body = await response.text();
    expect(body).toMatch(/batching/i);
    expect(body).not.toContain('"data"');
  });

  it('refuses GET and simple-content-type POST requests without a preflight header (CSRF prevention)', async () => {
    const authorization = `Bearer ${ADMIN_KEY}`;
    const get = await fetch(`${app.url}?query=${encodeURIComponent(VIEWER)}`, { headers: { authorization } });
    expect(get.status).toBe(400);
    expect(await get.text()).toMatch(/Cross-Site Request Forgery/);
    const textPost = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', authorization },
      body: JSON.stringify({ query: VIEWER }),
    });
    expect(textPost.status).toBe(400);
    expect(await textPost.text()).toMatch(/Cross-Site Request Forgery/);
    const preflighted = await fetch(`${app.url}?query=${encodeURIComponent(VIEWER)}`, {
      headers: { authorization, 'apollo-require-preflight': 'true' },
    });
    expect(preflighted.status).toBe(200);
  });
  it('refuses a subscription over HTTP with BAD_REQUEST, pointing to graphql-ws', async () => {
    const response = await app.graphql({ query: 'subscription { serverHealthChanged { serverId status } }' });
    expect(response.status).toBe(400);
    expect(errorsOf(response)).toEqual([{ code: 'BAD_REQUEST' }]);
    expect(response.errors?.[0]?.message).toMatch(/graphql-ws/);
  });

  it('answers more bad variables than graphql-js reports with BAD_USER_INPUT only, never a masked error', async () => {
    const response = await app.graphql({
      query: 'query($tools: [String!]) { servers(filter: { tools: $tools }) { totalCount } }',
      variables: { tools: Array.from({ length: 60 }, (_, i) => i) },
    });
    expect(response.status).toBe(400);
    const codes = new Set(errorsOf(response).map((extensions) => extensions?.code));
    expect(codes).toEqual(new Set(['BAD_USER_INPUT']));
    expect(response.errors?.at(-1)?.message).toMatch(/Too many errors processing variables/);
  });

  it.each([
    ['a hash that does not match the query', { version: 1, sha256Hash: 'abc' }],
    ['an unsupported version', { version: 2, sha256Hash: 'abc' }],
  ])('answers a persisted query with %s with BAD_REQUEST', async (_label, persistedQuery) => {
    const response = await fetch(app.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({ query: VIEWER, extensions: { persistedQuery } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/persisted query|sha/),
        extensions: { code: 'BAD_REQUEST' },
      }),
    ]);
  });
});

describe('text PostgreSQL cannot store', () => {
  it('answers the NUL character in a filter with BAD_USER_INPUT', async () => {
    const response = await app.graphql({
      query: 'query($search: String) { servers(filter: { search: $search }) { totalCount } }',
      variables: { search: 'a\u0000b' },
    });
    expect(response.status).toBe(400);
    expect(errorsOf(response)).toEqual([{ code: 'BAD_USER_INPUT' }]);
    expect(response.errors?.[0]?.message).toMatch(/NUL character/);
    const literal = await app.graphql({
      query: '{ servers(filter: { search: "a\\u0000b" }) { totalCount } }',
    });
    expect(literal.status).toBe(400);
    expect(literal.errors?.[0]?.message).toMatch(/NUL character/);
  });

  it('answers the NUL character in a mutation with BAD_USER_INPUT, and creates nothing', async () => {
    const tenants = await em().count(Tenant);
    for (const input of [{ name: 'nul\u0000co' }, { name: 'nul-co', settings: { note: '\u0000' } }]) {
      const response = await app.graphql({
        query: 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
        variables: { input },
      });
      expect(errorsOf(response)).toEqual([{ code: 'BAD_USER_INPUT' }]);
    }
    expect(await em().count(Tenant)).toBe(tenants);
  });
});

describe('production mode', () => {
  // Errors out of compiled execution are frozen: hiding suggestions once wrote to them and turned every resolver
  // error into INTERNAL_SERVER_ERROR in production only.
  it.each([
    ['an unknown server', '{ server(id: "x") { id } }', 'NOT_FOUND'],
    [
      'an unknown server by UUID',
      '{ server(id: "00000000-0000-4000-8000-000000000000") { id } }',
      'NOT_FOUND',
    ],
    ['a negative page size', '{ servers(first: -1) { totalCount } }', 'BAD_USER_INPUT'],
    ['a page size over the cap', 'query ($n: Int) { servers(first: $n) { totalCount } }', 'BAD_USER_INPUT'],
    [
      'a bad enum value in a variable',
      'query ($s: [ServerStatus!]) { servers(filter: { healthStatus: $s }) { totalCount } }',
      'BAD_USER_INPUT',
    ],
  ])('answers %s with the same code as in development', async (_label, query, code) => {
    const variables = { n: 101, s: ['HEALTHYY'] };
    const [development, inProduction] = await Promise.all([
      app.graphql({ query, variables }),
      production.graphql({ query, variables }),
    ]);
    expect(errorsOf(development).map((extensions) => extensions?.code)).toEqual([code]);
    expect(errorsOf(inProduction).map((extensions) => extensions?.code)).toEqual([code]);
    expect(inProduction.status).toBe(development.status);
    expect(inProduction.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });
});

describe('introspection and suggestions', () => {
  const INTROSPECTION = '{ __schema { queryType { name } } }';
  const TYPO = '{ viewr { apiKey { id } } }';

  it('are on outside production', async () => {
    expect((await app.graphql({ query: INTROSPECTION })).errors).toBeUndefined();
    const typo = await app.graphql({ query: TYPO });
    expect(typo.errors?.[0]?.message).toContain('Did you mean "viewer"?');
  });

  it('are off in production: introspection is refused and no error suggests a name', async () => {
    const introspection = await production.graphql({ query: INTROSPECTION });
    expect(introspection.status).toBe(400);
    expect(errorsOf(introspection)[0]?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(introspection.errors?.[0]?.message).toMatch(/introspection/i);
    const typo = await production.graphql({ query: TYPO });
    expect(typo.errors?.[0]?.message).toBe('Cannot query field "viewr" on type "Query".');
    const badEnum = await production.graphql({
      query: 'mutation($input: CreateUserInput!) { createUser(input: $input) { id } }',
      variables: { input: { username: 'x', email: 'x@example.test', role: 'ADMINN' } },
    });
    expect(errorsOf(badEnum)[0]?.code).toBe('BAD_USER_INPUT');
    expect(badEnum.errors?.[0]?.message).not.toMatch(/Did you mean/);
  });

  it('stay off over graphql-ws in production', async () => {
    const client = createClient({
      url: production.url.replace('http', 'ws'),
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      connectionParams: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    try {
      const result = await new Promise<unknown>((resolve) => {
        client.subscribe({ query: INTROSPECTION }, { next: resolve, error: resolve, complete: () => {} });
      });
      expect(result).toContainEqual(
        expect.objectContaining({ message: expect.stringMatching(/introspection has been disabled/) }),
      );
    } finally {
      await client.dispose();
    }
  });
});

async function restrictKey(id: string, ipWhitelist: string[]): Promise<void> {
  await em().nativeUpdate(ApiKey, { id }, { ipWhitelist });
}

describe('IP allow-lists', () => {
  it.each([
    [['10.0.0.0/8'], '10.1.2.3', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    [['192.0.2.7'], '192.0.2.7', true],
    [['192.0.2.7'], '192.0.2.8', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['10.0.0.0/8'], '2001:db8::1', false],
    // The right-most address that is not a trusted proxy is the client; what is left of it is ignored.
    [['10.0.0.0/8'], '11.0.0.1, 10.1.2.3', true],
    [['10.0.0.0/8'], '10.1.2.3, 11.0.0.1', false],
    [['10.0.0.0/8'], '10.1.2.3, 127.0.0.1', true],
    [['10.0.0.0/8'], 'not-an-address', false],
  ])('a key limited to %j, used from %s, is accepted: %s', async (whitelist, forwardedFor, accepted) => {
    const { key, id } = await acme.key();
    await restrictKey(id, whitelist);
    const response = await app.graphql({ query: VIEWER, key, headers: from(forwardedFor) });
    if (accepted) {
      expect(response.errors).toBeUndefined();
    } else {
      expect(response.status).toBe(401);
      expect(errorsOf(response)[0]?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('ignores x-forwarded-for unless the peer is a trusted proxy (none by default)', async () => {
    const { key, id } = await acme.key();
    await restrictKey(id, ['10.0.0.0/8']);
    const spoofed = await production.graphql({ query: VIEWER, key, headers: from('10.1.2.3') });
    expect(spoofed.status).toBe(401);
    await restrictKey(id, ['127.0.0.1']);
    const direct = await production.graphql({ query: VIEWER, key, headers: from('10.1.2.3') });
    expect(direct.errors).toBeUndefined();
  });

  it('records the client address, not the proxy, in the audit trail', async () => {
    const address = nextAddress();
    const response = await app.graphql({
      query: 'mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }',
      variables: { input: { name: 'audited-from-afar' } },
      headers: from(address),
    });
    expect(response.errors).toBeUndefined();
    const row = await em().findOneOrFail(AuditLog, { action: 'tenant.create', ipAddress: address });
    expect(row.success).toBe(true);
  });
});

describe('failed attempts and lockout', () => {
  const wrongSecret = (key: string, variant: number) =>
    `${key.slice(0, 12)}${String(variant).padEnd(35, 'x')}`;

  it(`locks a key after ${MAX_FAILED_ATTEMPTS} wrong secrets (even sent at once), until it is unlocked`, async () => {
    const { key, id } = await acme.key();
    const attempts = Array.from({ length: MAX_FAILED_ATTEMPTS }, (_, i) =>
      app.graphql({ query: VIEWER, key: wrongSecret(key, i), headers: from(nextAddress()) }),
    );
    for (const response of await Promise.all(attempts)) expect(response.status).toBe(401);
    const locked = await em().findOneOrFail(ApiKey, id);
    expect(locked).toMatchObject({ isLocked: true, failedAttempts: MAX_FAILED_ATTEMPTS });
    expect(await em().count(AuditLog, { action: 'api_key.lock', resourceId: id })).toBe(1);

    const refused = await app.graphql({ query: VIEWER, key });
    expect(refused.status).toBe(401);

    const unlocked = await app.graphql({ query: print(UnlockApiKeyDocument), variables: { id } });
    expect(unlocked.data).toEqual({ unlockApiKey: { id, isLocked: false, failedAttempts: 0 } });
    const accepted = await app.graphql({ query: VIEWER, key });
    expect(accepted.errors).toBeUndefined();
  });

  it('does not count the right secret refused for another reason, nor an unknown prefix', async () => {
    const { key, id } = await acme.key();
    await restrictKey(id, ['10.0.0.0/8']);
    await app.graphql({ query: VIEWER, key, headers: from('11.0.0.1') });
    await app.graphql({ query: VIEWER, key: `mcp_unknown0${'y'.repeat(35)}` });
    expect((await em().findOneOrFail(ApiKey, id)).failedAttempts).toBe(0);
  });
});

describe('refused keys', () => {
  it('get byte-identical answers and the same database work, whatever the reason', async () => {
    const revoked = await acme.key(undefined, { isActive: false });
    const expired = await acme.key(undefined, { expiresAt: new Date(Date.now() - 1000) });
    const locked = await acme.key(undefined, { isLocked: true });
    const elsewhere = await acme.key();
    await restrictKey(elsewhere.id, ['10.0.0.0/8']);
    const wrong = await acme.key();
    const attempts: Record<string, string> = {
      unknown: `mcp_${'z'.repeat(43)}`,
      revoked: revoked.key,
      expired: expired.key,
      locked: locked.key,
      'wrong address': elsewhere.key,
      'wrong secret': `${wrong.key.slice(0, 12)}${'w'.repeat(35)}`,
    };
    const answers = new Map<string, { status: number; body: string; statements: number }>();
    for (const [label, key] of Object.entries(attempts)) {
      const { result, statements } = await app.countStatements(() =>
        fetch(app.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${key}`,
            ...from(nextAddress()),
          },
          body: JSON.stringify({ query: VIEWER }),
        }).then(async (response) => ({ status: response.status, body: await response.text() })),
      );
      answers.set(label, { ...result, statements: statements.length });
    }
    const distinct = new Set([...answers.values()].map((answer) => JSON.stringify(answer)));
    expect(distinct.size, JSON.stringify(Object.fromEntries(answers))).toBe(1);
    const [answer] = answers.values();
    expect(answer?.status).toBe(401);
    expect(JSON.parse(answer?.body ?? '{}').errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('leave one audit row per failure, with reason, prefix and address, never the key', async () => {
    const { key, id } = await acme.key(undefined, { isActive: false });
    const address = nextAddress();
    await app.graphql({ query: VIEWER, key, headers: from(address) });
    const noKeyAddress = nextAddress();
    await app.graphql({ query: VIEWER, key: null, headers: from(noKeyAddress) });
    const shortAddress = nextAddress();
    await app.graphql({ query: VIEWER, key: 'hunter2', headers: from(shortAddress) });

    const rows = await em().find(AuditLog, {
      action: 'auth.failure',
      ipAddress: { $in: [address, noKeyAddress, shortAddress] },
    });
    const byAddress = new Map(rows.map((row) => [row.ipAddress, row]));
    expect(byAddress.get(address)).toMatchObject({
      success: false,
      apiKeyId: id,
      tenantId: acme.id,
      details: { reason: 'revoked', prefix: key.slice(0, 12) },
    });
    expect(byAddress.get(noKeyAddress)?.details).toEqual({ reason: 'missing_key' });
    // A short token's "prefix" would be the whole of it: not recorded.
    expect(byAddress.get(shortAddress)?.details).toEqual({ reason: 'unknown_key' });
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(key);
    expect(stored).not.toContain('hunter2');
  });

  it('do not flood the audit table: one row per prefix and address per minute', async () => {
    // An app of its own: its throttle's first minute starts with this test.
    const fresh = await startTestApp(db.target, { MIGRATE_ON_START: 'false', TRUSTED_PROXIES: '127.0.0.1' });
    try {
      await flood(fresh);
    } finally {
      await fresh.close();
    }
  });
});

/** Sends one key 5 times and 40 random keys from one address; counts the audit rows they leave. */
async function flood(target: TestApp): Promise<void> {
  const address = nextAddress();
  const key = `mcp_flood000${'f'.repeat(35)}`;
  for (let i = 0; i < 5; i++) await target.graphql({ query: VIEWER, key, headers: from(address) });
  for (let i = 0; i < 40; i++) {
    const random = `mcp_${String(i).padStart(8, '0')}${'r'.repeat(35)}`;
    await target.graphql({ query: VIEWER, key: random, headers: from(address) });
  }
  const rows = await em().count(AuditLog, { action: 'auth.failure', ipAddress: address });
  // One for the repeated key, then distinct prefixes up to the cap per address: 20 in all.
  expect(rows).toBe(20);
}

/**
 * Variables an operation accepts, with every page size (`first`, `last`) at its maximum: the most an operation
 * can cost. Other variables get the simplest valid value of their type (required input fields only).
 */
function largestPageVariables(
  schema: GraphQLSchema,
  definition: OperationDefinitionNode,
): Record<string, unknown> {
  const sampleValue = (type: GraphQLInputType, name: string): unknown => {
    if (isNonNullType(type)) return sampleValue(type.ofType, name);
    if (isListType(type)) return [sampleValue(type.ofType, name)];
    if (isEnumType(type)) return type.getValues()[0]?.name;
    if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields()).filter(
        (field) => isNonNullType(field.type) && field.defaultValue === undefined,
      );
      return Object.fromEntries(fields.map((field) => [field.name, sampleValue(field.type, field.name)]));
    }
    if (!isScalarType(type)) throw new Error(`no value for ${String(type)}`);
    if (name === 'first' || name === 'last') return MAX_PAGE_SIZE;
    const simple: Record<string, unknown> = {
      Int: 1,
      Float: 1,
      Boolean: true,
      String: 'x',
      ID: '00000000-0000-4000-8000-000000000000',
      DateTime: '2026-01-01T00:00:00.000Z',
      JSON: {},
    };
    return simple[type.name] ?? 'x';
  };
  return Object.fromEntries(
    (definition.variableDefinitions ?? []).map((variable) => {
      const type = typeFromAST(schema, variable.type) as GraphQLInputType;
      return [variable.variable.name.value, sampleValue(type, variable.variable.name.value)];
    }),
  );
}
