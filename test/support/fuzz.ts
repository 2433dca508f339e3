import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  buildSchema,
  type GraphQLInputType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isScalarType,
  type OperationDefinitionNode,
  typeFromAST,
} from 'graphql';
import { Random, Weighted } from '../../src/seed/random.js';
import { type ContractOperation, contractOperations, OPERATIONS_DIR } from './contract-operations.js';

/**
 * Malformed and random requests for test/fuzz.test.ts. Every case is drawn from its own stream of the seeded
 * generator (`case-<index>`), so one case can be replayed alone from the seed and its index.
 */

/** The request body limit of the API (src/http/request-middleware.ts). */
const BODY_LIMIT = 1024 * 1024;

export interface HttpProbe {
  readonly method: string;
  /** Path and query string, e.g. `/graphql?query=…`. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
}

export interface HttpCase {
  readonly index: number;
  readonly family: string;
  readonly label: string;
  readonly probe: HttpProbe;
  /**
   * The case sends a mutation that is invalid by construction (or unauthorized): it must answer with errors,
   * and nothing may change.
   */
  readonly mutation: boolean;
}

/** What a case may refer to: keys to send and rows that exist. */
export interface FuzzWorld {
  readonly adminKey: string;
  readonly tenantKey: string;
  readonly tenantIds: readonly string[];
  readonly serverIds: readonly string[];
}

export interface FuzzKit {
  readonly schema: GraphQLSchema;
  readonly operations: readonly ContractOperation[];
  readonly world: FuzzWorld;
}

export function fuzzKit(world: FuzzWorld): FuzzKit {
  // The committed SDL names federation directives it does not define; only its types matter here.
  const sdl = readFileSync(path.resolve(OPERATIONS_DIR, '../schema.graphql'), 'utf8');
  return { schema: buildSchema(sdl, { assumeValidSDL: true }), operations: contractOperations(), world };
}

export function caseRandom(seed: number, index: number): Random {
  return new Random(seed, `case-${index}`);
}

// ---------------------------------------------------------------------------------------------------------
// Values

const UNICODE_SAMPLES = [
  'é',
  'ß',
  'Ω',
  'ж',
  '中',
  '日本',
  '🙂',
  '👩‍👩‍👧',
  '\u0000',
  '\u0007',
  '\u200b',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\\',
  '"',
  "'",
  '`',
  '\n',
  '\r\n',
  '\t',
  '%00',
  '%s',
  '{{x}}',
  '$' + '{x}',
  '<script>',
  "' OR '1'='1",
  '1; DROP TABLE tenants--',
  '../../etc/passwd',
  '__proto__',
];

export function randomText(random: Random, maxLength = 40): string {
  const length = random.int(0, maxLength);
  let text = '';
  while (text.length < length) {
    text += random.chance(0.4)
      ? random.pick(UNICODE_SAMPLES)
      : String.fromCodePoint(random.pick([random.int(0x20, 0x7e), random.int(0xa0, 0x2fff)]));
  }
  return text;
}

function hugeString(random: Random): string {
  return random.pick(['a', 'é', '🙂', ' ', '\\', '{']).repeat(random.pick([5_000, 5_000, 70_000, 300_000]));
}

const NUMBERS = [
  0,
  -0,
  1,
  -1,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31) - 1,
  2 ** 53 + 1,
  1e21,
  -1e21,
  1e308,
  -1e308,
  Number.MIN_VALUE,
  0.5,
  -0.000001,
  101,
  1000,
  99999999,
];
const NUMBER_LIKE_STRINGS = ['NaN', 'Infinity', '-Infinity', '1e999', '0x10', '1_000', ' 1', '1.0', '', '-0'];

function randomNumber(random: Random): number {
  return random.chance(0.7) ? random.pick(NUMBERS) : random.int(-100_000, 100_000);
}

/** A v4-shaped UUID (that names no row), or text that looks like an id but is not a UUID. */
export function randomId(random: Random): string {
  return random.pick([
    () => random.uuid(),
    () => random.uuid().toUpperCase(),
    () => random.uuid().slice(0, 35),
    () => `${random.uuid()}x`,
    () => random.uuid().replaceAll('-', ''),
    () => '00000000-0000-0000-0000-000000000000',
    () => 'ffffffff-ffff-ffff-ffff-ffffffffffff',
    () => `{${random.uuid()}}`,
    () => String(random.int(0, 1_000_000)),
    () => randomText(random, 40),
    () => 'null',
    () => '',
  ])();
}

export function randomCursor(random: Random): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return random.pick([
    () => randomText(random, 30),
    () => Buffer.from(randomText(random, 30)).toString('base64'),
    () => encode([random.pick(['x', '2024-01-01T00:00:00.000Z', 'not a date', '']), random.uuid()]),
    () => encode([randomNumber(random), random.uuid()]),
    () => encode([null, random.uuid()]),
    () => encode([random.pick(['x', null, 5, '2024-01-01T00:00:00.000Z']), randomId(random)]),
    () => encode([random.uuid()]),
    () => encode({ id: random.uuid() }),
    () => encode([[1], random.uuid()]),
    () => encode([1e308, '']),
    () => encode(randomJson(random, 3)),
    () => '=',
    () => '!!!!',
  ])();
}

const DATE_TIMES = [
  '2024-01-01T00:00:00.000Z',
  '2999-12-31T23:59:59Z',
  '1970-01-01T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '2024-13-45T99:99:99Z',
  '2024-02-30T00:00:00Z',
  'yesterday',
  '1700000000',
  '+275760-09-13T00:00:00.000Z',
  '',
];

/** Any JSON value, nested at most `depth` levels. */
export function randomJson(random: Random, depth = 3): unknown {
  const kind = random.int(0, depth > 0 ? 7 : 4);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return random.chance(0.5);
    case 2:
      return randomNumber(random);
    case 3:
      return randomText(random, 20);
    case 4:
      return random.pick(['', '__proto__', 'constructor', '$where', '{}']);
    case 5:
      return Array.from({ length: random.int(0, 4) }, () => randomJson(random, depth - 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(0, 4); i > 0; i--) {
        object[random.pick([randomText(random, 10), '__proto__', 'constructor', 'type', '$ref'])] =
          randomJson(random, depth - 1);
      }
      return object;
    }
  }
}

/** JSON nested `levels` deep, as text (JSON.stringify itself would recurse that deep). */
export function deeplyNestedJson(levels: number, open = '[', close = ']'): string {
  return `${open.repeat(levels)}${close.repeat(levels)}`;
}

/** A value of no particular type: what a careless or hostile client sends anywhere. */
function wildValue(random: Random, allowHuge = true): unknown {
  return random.pick([
    () => null,
    () => randomNumber(random),
    () => random.pick(NUMBER_LIKE_STRINGS),
    () => randomText(random),
    () => (allowHuge && random.chance(0.3) ? hugeString(random) : randomText(random, 300)),
    () => random.chance(0.5),
    () => [],
    () => ({}),
    () => [randomJson(random, 2)],
    () => randomJson(random, 3),
    () => randomId(random),
    () => ({ [randomText(random, 8)]: randomJson(random, 2) }),
  ])();
}

interface ValueOptions {
  /** Real row ids may be used (never for mutations: a valid id could make a valid mutation). */
  readonly realIds: boolean;
  /** Strings of hundreds of kilobytes may be drawn (not inside lists, which would multiply them). */
  readonly allowHuge?: boolean;
}

/** A value for an input type: usually of the right shape with odd contents, sometimes of no shape at all. */
export function randomValue(
  random: Random,
  kit: FuzzKit,
  type: GraphQLInputType,
  name: string,
  options: ValueOptions,
): unknown {
  const allowHuge = options.allowHuge ?? true;
  if (random.chance(0.12)) return wildValue(random, allowHuge);
  if (isNonNullType(type)) {
    return random.chance(0.05) ? null : randomValue(random, kit, type.ofType, name, options);
  }
  if (isListType(type)) {
    const length = random.pick([0, 1, 2, 3, 21, 101, 1001]);
    if (length > 3 && random.chance(0.5)) return randomValue(random, kit, type.ofType, name, options);
    const itemOptions = { ...options, allowHuge: false };
    return Array.from({ length }, () => randomValue(random, kit, type.ofType, name, itemOptions));
  }
  if (isEnumType(type)) {
    const values = type.getValues().map((value) => value.name);
    return random.chance(0.7)
      ? random.pick(values)
      : random.pick([
          random.pick(values).toLowerCase(),
          `${random.pick(values)}X`,
          '',
          'NOPE',
          '__proto__',
          0,
        ]);
  }
  if (isInputObjectType(type)) {
    const object: Record<string, unknown> = {};
    for (const [field, fieldDef] of Object.entries(type.getFields())) {
      if (isNonNullType(fieldDef.type) ? random.chance(0.95) : random.chance(0.5)) {
        object[field] = randomValue(random, kit, fieldDef.type, field, options);
      }
    }
    if (random.chance(0.1)) {
      object[random.pick(['unknownField', '__typename', 'id', ''])] = wildValue(random, allowHuge);
    }
    return object;
  }
  if (!isScalarType(type)) return wildValue(random, allowHuge);
  return scalarValue(random, kit, type.name, name, options);
}

function scalarValue(random: Random, kit: FuzzKit, scalar: string, name: string, options: ValueOptions) {
  if (name === 'after') return randomCursor(random);
  if (name === 'first' || name === 'last' || name === 'hours' || name === 'limit') {
    return random.pick([
      () => random.int(-5, 120),
      () => randomNumber(random),
      () => random.pick(NUMBER_LIKE_STRINGS),
    ])();
  }
  switch (scalar) {
    case 'ID': {
      const real = [...kit.world.tenantIds, ...kit.world.serverIds];
      return options.realIds && random.chance(0.4) ? random.pick(real) : randomId(random);
    }
    case 'Int':
    case 'Float':
      return random.chance(0.85) ? randomNumber(random) : random.pick(NUMBER_LIKE_STRINGS);
    case 'Boolean':
      return random.chance(0.8) ? random.chance(0.5) : random.pick(['true', 0, 1, 'false']);
    case 'DateTime':
      return random.pick(DATE_TIMES);
    case 'JSON':
      return random.chance(0.95) || options.allowHuge === false ? randomJson(random, 4) : hugeString(random);
    default:
      return random.pick([
        () => randomText(random),
        () => randomText(random, options.allowHuge === false ? 40 : 300),
        () =>
          options.allowHuge === false
            ? randomText(random)
            : random.chance(0.5)
              ? randomText(random, 5000)
              : hugeString(random),
        () => random.pick(['', ' ', '\t\n']),
        () => randomNumber(random),
      ])();
  }
}

export function randomVariables(
  random: Random,
  kit: FuzzKit,
  definition: OperationDefinitionNode,
  options: ValueOptions,
): Record<string, unknown> {
  const variables: Record<string, unknown> = {};
  for (const variable of definition.variableDefinitions ?? []) {
    if (random.chance(0.08)) continue;
    const type = typeFromAST(kit.schema, variable.type) as GraphQLInputType | undefined;
    const name = variable.variable.name.value;
    variables[name] = type ? randomValue(random, kit, type, name, options) : wildValue(random, false);
  }
  if (random.chance(0.05)) variables[randomText(random, 8)] = wildValue(random, false);
  return variables;
}

// ---------------------------------------------------------------------------------------------------------
// Mutations that must fail

const BAD_URLS = [
  'not a url',
  '',
  '   ',
  'http://',
  'https://',
  'ftp://example.test/mcp',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'ws://example.test/mcp',
  '//example.test/mcp',
  'http://[::1',
  'http://exa mple.test/',
  `https://example.test/${'a'.repeat(3000)}`,
  'data:text/plain,hi',
];

/**
 * Makes `input` (the random input of a create/update mutation) certainly invalid with one flaw that the
 * API's validation must catch, whatever else it holds. Returns the poisoned input.
 */
function poisonInput(random: Random, operation: string, input: unknown): unknown {
  const base = typeof input === 'object' && input !== null && !Array.isArray(input) ? { ...input } : {};
  const flaws: Record<string, (() => Record<string, unknown>)[]> = {
    CreateTenant: [
      () => ({ name: random.pick(['', '   ', 'x'.repeat(256), '\t\n']) }),
      () => ({ name: 'fuzz', settings: random.pick([[], 'x', 5, true, [1, 2]]) }),
      () => ({ name: 'fuzz', settings: { big: 'x'.repeat(70_000) } }),
    ],
    UpdateTenant: [
      () => ({ name: random.pick(['', '   ', 'x'.repeat(256)]) }),
      () => ({ settings: random.pick([[], 'x', 5, false]) }),
      () => ({ status: random.pick(['NOPE', 'active', '', 3]) }),
    ],
    CreateUser: [
      () => ({
        username: random.pick(['', '-lead', 'has space', 'ü', 'x'.repeat(101), '.dot']),
        email: 'a@b.test',
      }),
      () => ({
        username: 'fuzz',
        email: random.pick(['', 'no-at', 'a@', '@b.test', `${'a'.repeat(300)}@b.test`]),
      }),
      () => ({ username: 'fuzz', email: 'fuzz@example.test', role: random.pick(['ADMINN', 'root', '']) }),
    ],
    CreateApiKey: [
      () => ({ name: 'fuzz', scopes: [] }),
      () => ({ name: 'fuzz', scopes: [random.pick(['SUPER', 'read', ''])] }),
      () => ({
        name: 'fuzz',
        scopes: ['READ'],
        ipWhitelist: random.pick([[], ['garbage'], ['10.0.0.0/33'], ['::1/129']]),
      }),
      () => ({ name: 'fuzz', scopes: ['READ'], allowedServers: [] }),
      () => ({ name: 'fuzz', scopes: ['READ'], rateLimitPerHour: random.pick([0, -1]) }),
      () => ({ name: 'fuzz', scopes: ['READ'], expiresAt: random.pick(['2000-01-01T00:00:00Z', 'soon']) }),
      () => ({ name: random.pick(['', '  ', 'x'.repeat(300)]), scopes: ['READ'] }),
    ],
    RegisterServer: [
      () => ({
        name: 'fuzz',
        transportType: random.pick(['STREAMABLE_HTTP', 'SSE']),
        endpointUrl: random.pick(BAD_URLS),
      }),
      () => ({ name: 'fuzz', transportType: 'WEBSOCKET', endpointUrl: 'https://example.test/mcp' }),
      () => ({
        name: random.pick(['', '   ', 'x'.repeat(256)]),
        transportType: 'STREAMABLE_HTTP',
        endpointUrl: 'https://example.test/mcp',
      }),
      () => ({
        name: 'fuzz',
        transportType: 'STREAMABLE_HTTP',
        endpointUrl: 'https://example.test/mcp',
        failureThreshold: random.pick([0, -1, 101]),
      }),
      () => ({
        name: 'fuzz',
        transportType: 'STREAMABLE_HTTP',
        endpointUrl: 'https://example.test/mcp',
        headers: random.pick([[], 'x', { 'bad name': 'x' }, { a: 5 }, { a: 'line\nbreak' }]),
      }),
      () => ({
        name: 'fuzz',
        transportType: 'STREAMABLE_HTTP',
        endpointUrl: 'https://example.test/mcp',
        tools: [{ name: 'same' }, { name: 'same' }],
      }),
      () => ({
        name: 'fuzz',
        transportType: 'TELEPATHY',
        endpointUrl: 'https://example.test/mcp',
      }),
    ],
    ImportRegistryServers: [
      () => ({ url: random.pick(BAD_URLS) }),
      () => ({ url: 'https://user:pw@registry.example.test' }),
      () => ({ url: 'https://registry.example.test', search: 'x'.repeat(201) }),
      () => ({
        url: 'https://registry.example.test',
        headers: random.pick([[], 'x', { 'bad name': 'x' }, { a: 5 }, { a: 'line\nbreak' }]),
      }),
    ],
    UpdateServer: [
      () => ({ endpointUrl: random.pick(BAD_URLS), transportType: 'STREAMABLE_HTTP' }),
      () => ({ name: random.pick(['', '   ', 'x'.repeat(256)]) }),
      () => ({ failureThreshold: random.pick([0, 101, -5]) }),
      () => ({ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }),
      () => ({ tags: [''] }),
      () => ({ headers: random.pick([[], { 'bad name': 'x' }, { a: 5 }]) }),
    ],
  };
  const choices = flaws[operation];
  if (choices === undefined) return input;
  const flaw = random.pick(choices)();
  const poisoned: Record<string, unknown> = { ...base, ...flaw };
  // Declared capabilities instead of a network round trip, whatever else the input says.
  if (operation === 'RegisterServer') poisoned.discover = false;
  return poisoned;
}

/** Random variables for a mutation of the contract, invalid by construction. */
/** Variables for a contract operation: invalid ones for a mutation, random ones (real ids) otherwise. */
function operationVariables(random: Random, kit: FuzzKit, operation: ContractOperation) {
  return operation.definition.operation === 'mutation'
    ? mutationVariables(random, kit, operation)
    : randomVariables(random, kit, operation.definition, { realIds: true });
}

function mutationVariables(random: Random, kit: FuzzKit, operation: ContractOperation) {
  const variables = randomVariables(random, kit, operation.definition, { realIds: false });
  const name = operation.name;
  if ('input' in variables || name.startsWith('Create') || name === 'RegisterServer') {
    variables.input = poisonInput(random, name, variables.input);
  }
  // Update* with a real id and a poisoned input: validation must refuse before anything is written.
  if ((name === 'UpdateServer' || name === 'UpdateTenant') && random.chance(0.5)) {
    variables.id = random.pick(name === 'UpdateServer' ? kit.world.serverIds : kit.world.tenantIds);
  }
  return variables;
}

// ---------------------------------------------------------------------------------------------------------
// GraphQL documents

const TOKEN =
  /\.\.\.|"""[\s\S]*?"""|"(?:[^"\\\n]|\\.)*"|[_A-Za-z][_0-9A-Za-z]*|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\s+|#[^\n]*|./g;
const PUNCTUATION = [
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ':',
  '!',
  '$',
  '@',
  '...',
  '=',
  '|',
  '"',
  '"""',
  '#',
  '&',
  ',',
  '\\',
  '\u0000',
  '0',
  '-',
  '.',
  '\ud83d',
];

/** The operation's text with 1 to 5 of its tokens deleted, duplicated, swapped or replaced by punctuation. */
export function mutateTokens(random: Random, query: string): string {
  const tokens = query.match(TOKEN) ?? [];
  const meaningful = () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      const i = random.int(0, tokens.length - 1);
      if (!/^\s+$/.test(tokens[i] ?? ' ')) return i;
    }
    return random.int(0, tokens.length - 1);
  };
  for (let n = random.int(1, 5); n > 0 && tokens.length > 0; n--) {
    const i = meaningful();
    const j = meaningful();
    switch (random.int(0, 4)) {
      case 0:
        tokens.splice(i, 1);
        break;
      case 1:
        tokens.splice(i, 0, tokens[i] ?? '');
        break;
      case 2:
        [tokens[i], tokens[j]] = [tokens[j] ?? '', tokens[i] ?? ''];
        break;
      case 3:
        tokens.splice(i, 0, random.pick(PUNCTUATION));
        break;
      default:
        tokens[i] = random.chance(0.5) ? (tokens[j] ?? '') : randomText(random, 6);
    }
  }
  return tokens.join('');
}

const nest = (levels: number, open: (level: number) => string, leaf: string) =>
  `${Array.from({ length: levels }, (_, i) => `${open(i)} { `).join('')}${leaf}${' }'.repeat(levels)}`;

/** Documents that parse (mostly) but ask for what the schema or the limits refuse. */
function structuralAttack(random: Random): { label: string; query: string; operationName?: unknown } {
  const n = random.pick([2, 9, 16, 50, 300]);
  const attacks: (() => { label: string; query: string; operationName?: unknown })[] = [
    () => ({
      label: 'unknown field',
      query: `{ viewer { ${random.pick(['nope', 'apiKey { secret }', '__proto__'])} } }`,
    }),
    () => ({
      label: 'unknown argument',
      query: `{ servers(${random.pick(['bogus: 1', 'first: 1, first: 2', 'filter: { nope: 1 }', 'orderBy: { field: NOPE, direction: UP }'])}) { totalCount } }`,
    }),
    () => ({
      label: 'argument of the wrong type',
      query: `{ servers(first: ${random.pick(['"10"', '1.5', '99999999999', 'null', '[1]', '{a: 1}', 'ASC'])}) { totalCount } }`,
    }),
    () => ({ label: 'literal id', query: `{ server(id: ${JSON.stringify(randomId(random))}) { id name } }` }),
    () => ({ label: 'deep unknown nesting', query: nest(n, () => 'viewer', 'id') }),
    () => ({
      label: 'deep real nesting',
      query: `{ servers { edges { node { ${nest(Math.min(n, 60), (i) => (i % 2 ? 'circuitBreaker' : 'tenant'), 'id')} } } } }`,
    }),
    () => ({
      label: 'deep introspection',
      query: `{ __schema { types { ${nest(Math.min(n, 100), (i) => (i % 2 ? 'type' : 'fields'), 'name')} } } }`,
    }),
    () => ({
      label: 'deep __type',
      query: `{ __type(name: "MCPServer") { ${nest(Math.min(n, 100), () => 'ofType', 'name')} } }`,
    }),
    () => ({
      label: 'alias bomb',
      query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { apiKey { id } }`).join(' ')} }`,
    }),
    () => ({
      label: 'alias bomb on a list',
      query: `{ ${Array.from({ length: n }, (_, i) => `a${i}: servers(first: 100) { totalCount }`).join(' ')} }`,
    }),
    () => ({ label: 'field duplication', query: `{ viewer { apiKey { ${'id '.repeat(n)} } } }` }),
    () => ({
      label: 'fragment cycle',
      query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }',
    }),
    () => ({
      label: 'self-referencing fragment',
      query: '{ viewer { ...V } } fragment V on Viewer { apiKey { id } ...V }',
    }),
    () => ({
      label: 'fragment on a wrong type',
      query: '{ viewer { ...F } } fragment F on MCPServer { id }',
    }),
    () => ({ label: 'fragment on an unknown type', query: '{ viewer { ...F } } fragment F on Nope { id }' }),
    () => ({
      label: 'unused fragment',
      query: '{ viewer { apiKey { id } } } fragment F on Query { viewer { apiKey { id } } }',
    }),
    () => ({
      label: 'fragment spread bomb',
      query: `{ viewer { ${'...F '.repeat(n)} } } fragment F on Viewer { apiKey { id name } }`,
    }),
    () => ({
      label: 'directive flood',
      query: `{ viewer ${'@include(if: true) '.repeat(n)} { apiKey { id } } }`,
    }),
    () => ({
      label: 'unknown directive',
      query: `{ viewer @${random.pick(['foo', 'defer', 'stream', 'live', 'deprecated', 'key(fields: "id")'])} { apiKey { id } } }`,
    }),
    () => ({
      label: 'directive with a variable of the wrong type',
      query: 'query($x: String) { viewer @skip(if: $x) { apiKey { id } } }',
    }),
    () => ({
      label: 'fragment named __schema',
      query:
        '{ ...__schema } fragment __schema on Query { servers(first: 100) { edges { node { tools { id name } resources { id } } } } }',
    }),
    () => ({
      label: 'operation named __schema',
      query: `query __schema { ${nest(Math.min(n, 30), () => 'viewer', 'id')} }`,
    }),
    () => ({
      label: '__type with an odd name',
      query: `{ __type(name: ${JSON.stringify(random.pick(['', 'Nope', 'x'.repeat(10_000), '__Schema', 'Query']))}) { name fields { name } } }`,
    }),
    () => ({
      label: '__type with a wrong argument',
      query: `{ __type(name: ${random.pick(['5', 'null', '[]', 'MCPServer'])}) { name } }`,
    }),
    () => ({
      label: '__typename everywhere',
      query: '{ __typename viewer { __typename apiKey { __typename } } __schema { __typename } }',
    }),
    () => ({
      label: 'introspection of mutations',
      query: '{ __schema { mutationType { fields { name args { name type { name } } } } } }',
    }),
    () => ({ label: 'two anonymous operations', query: '{ viewer { apiKey { id } } } { __typename }' }),
    () => ({
      label: 'operations without a name to pick',
      query: 'query A { __typename } query B { __typename }',
    }),
    () => ({
      label: 'unknown operationName',
      query: 'query A { __typename }',
      operationName: random.pick(['B', '', 5, null, ['A'], {}]),
    }),
    () => ({
      label: 'duplicate operation names',
      query: 'query A { __typename } query A { viewer { apiKey { id } } }',
      operationName: 'A',
    }),
    () => ({
      label: 'subscription over HTTP',
      query: 'subscription { serverHealthChanged { serverId status } }',
    }),
    () => ({ label: 'mutation without fields', query: 'mutation { __typename }' }),
    () => ({
      label: 'mutation of an unknown field',
      query: `mutation { ${random.pick(['dropTable', 'createTenant', 'deleteServer'])} }`,
    }),
    () => ({ label: 'undeclared variable', query: '{ server(id: $id) { id } }' }),
    () => ({ label: 'variable of an unknown type', query: 'query($id: Nope!) { server(id: $id) { id } }' }),
    () => ({ label: 'variable of an output type', query: 'query($s: MCPServer) { __typename }' }),
    () => ({ label: 'unused variable', query: 'query($x: Int) { __typename }' }),
    () => ({ label: 'empty document', query: random.pick(['', ' ', '#', '{}', '{ }', 'query', 'fragment']) }),
    () => ({ label: 'huge comment', query: `#${'x'.repeat(random.pick([1000, 500_000]))}\n{ __typename }` }),
    () => ({
      label: 'too many tokens',
      query: `{ ${'__typename '.repeat(random.pick([999, 1001, 20_000]))} }`,
    }),
    () => ({ label: 'long name', query: `{ ${'a'.repeat(random.pick([1000, 100_000]))} }` }),
    () => ({
      label: 'odd string literal',
      query: `{ server(id: ${random.pick(['"\\u{1F600}"', '"\\uD800"', '"\\x"', '"""a"""', '"\\u0000"'])}) { id } }`,
    }),
    () => ({
      label: 'number literal',
      query: `{ servers(first: ${random.pick(['1e400', '-0', '00', '1.', '.5', '0x10'])}) { totalCount } }`,
    }),
    () => ({
      label: 'schema definition as an operation',
      query: random.pick([
        'type Query { a: Int }',
        'schema { query: Query }',
        'scalar X',
        'extend type Query { a: Int }',
      ]),
    }),
  ];
  return random.pick(attacks)();
}

// ---------------------------------------------------------------------------------------------------------
// HTTP cases

type KeyChoice = 'admin' | 'tenant' | 'none' | 'garbage';

function garbageAuthorization(random: Random): string {
  const latin1 = () =>
    // What Node lets a client send in a header: printable ASCII and Latin-1, no DEL.
    Array.from({ length: random.int(0, 40) }, () =>
      String.fromCharCode(random.chance(0.7) ? random.int(0x20, 0x7e) : random.int(0xa0, 0xff)),
    ).join('');
  return random.pick([
    () => 'Bearer',
    () => 'Bearer ',
    () => `Bearer ${latin1()}`,
    () => `Bearer mcp_${Buffer.from(random.uuid()).toString('base64url')}`,
    () => `bearer   mcp_${random.uuid()}  `,
    () => `Bearer ${'x'.repeat(random.pick([256, 257, 5000]))}`,
    () => `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    () => `Bearer a b`,
    () => latin1(),
    () => `Bearer ${random.uuid()}, Bearer ${random.uuid()}`,
  ])();
}

function authorizationHeader(random: Random, kit: FuzzKit, choice: KeyChoice): Record<string, string> {
  switch (choice) {
    case 'admin':
      return { authorization: `Bearer ${kit.world.adminKey}` };
    case 'tenant':
      return { authorization: `Bearer ${kit.world.tenantKey}` };
    case 'none':
      return {};
    default:
      return { authorization: garbageAuthorization(random) };
  }
}

/** Headers a client may add besides content type and authorization, sometimes odd ones. */
function oddHeaders(random: Random): Record<string, string> {
  const headers: Record<string, string> = {};
  if (random.chance(0.15)) {
    headers['x-request-id'] = random.pick([
      () => 'a'.repeat(random.pick([64, 65, 8000])),
      () => randomText(random, 20).replace(/[^\x20-\x7e]/g, '?'),
      () => '../../etc',
      () => '',
    ])();
  }
  if (random.chance(0.15)) {
    headers['x-forwarded-for'] = random.pick([
      () => 'garbage',
      () => '1.2.3.4, , ,',
      () => '999.999.999.999',
      () => '[::1]:80, 10.0.0.1:5',
      () => Array.from({ length: 500 }, () => '10.0.0.1').join(','),
      () => "' OR 1=1 --",
      () => 'unknown',
    ])();
  }
  if (random.chance(0.08))
    headers.accept = random.pick([
      'text/html',
      '*/*',
      'application/graphql-response+json',
      'multipart/mixed',
      'text/event-stream',
      'garbage',
      '',
    ]);
  if (random.chance(0.05))
    headers['content-encoding'] = random.pick(['gzip', 'deflate', 'br', 'identity', 'bogus']);
  if (random.chance(0.05)) headers['apollo-require-preflight'] = 'true';
  if (random.chance(0.03))
    headers['x-apollo-operation-name'] = randomText(random, 10).replace(/[^\x20-\x7e]/g, '?');
  if (random.chance(0.03)) headers.origin = random.pick(['https://evil.example', 'null', '']);
  return headers;
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'APPLICATION/JSON',
  'application/graphql',
  'application/graphql-response+json',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  '',
];

function post(
  random: Random,
  kit: FuzzKit,
  body: string | Buffer,
  options: { key?: KeyChoice; contentType?: string | null } = {},
): HttpProbe {
  const key = options.key ?? random.pick<KeyChoice>(['admin', 'admin', 'tenant', 'none', 'garbage']);
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  return {
    method: 'POST',
    path: '/graphql',
    headers: {
      ...(contentType === null ? {} : { 'content-type': contentType }),
      ...authorizationHeader(random, kit, key),
      ...oddHeaders(random),
    },
    body,
  };
}

function randomBytes(random: Random, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = random.int(0, 255);
  return bytes;
}

/** Raw bodies: bytes, broken JSON, JSON of the wrong shape, sizes around the limit, odd content types. */
function rawBodyCase(random: Random, kit: FuzzKit): { label: string; probe: HttpProbe } {
  const valid = JSON.stringify({ query: '{ viewer { apiKey { id } } }' });
  const shapes: [string, () => HttpProbe, number?][] = [
    [
      'random bytes',
      () =>
        post(random, kit, randomBytes(random, random.int(0, 2000)), {
          contentType: random.pick(CONTENT_TYPES),
        }),
    ],
    ['truncated JSON', () => post(random, kit, valid.slice(0, random.int(0, valid.length - 1)))],
    ['corrupted JSON', () => post(random, kit, mutateTokens(random, valid))],
    ['empty body', () => post(random, kit, '', { contentType: random.pick(CONTENT_TYPES) })],
    [
      'JSON of a wrong shape',
      () =>
        post(
          random,
          kit,
          random.pick([
            '[]',
            `[${valid},${valid}]`,
            `[${valid}]`,
            '5',
            '"x"',
            'null',
            'true',
            '{}',
            '{"query":5}',
            '{"query":null}',
            '{"query":["{ __typename }"]}',
            '{"query":{}}',
            '{"query":true}',
            '{"variables":"x"}',
            '{"query":"{ __typename }","variables":"x"}',
            '{"query":"{ __typename }","variables":[1]}',
            '{"query":"{ __typename }","variables":5}',
            '{"query":"{ __typename }","operationName":5}',
            '{"query":"{ __typename }","operationName":{}}',
            '{"query":"{ __typename }","extensions":"x"}',
            '{"query":"{ __typename }","extensions":{"persistedQuery":"x"}}',
            '{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}',
            '{"query":"{ __typename }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"abc"}}}',
            '{"extensions":{"persistedQuery":{"version":2,"sha256Hash":5}}}',
            '{"query":"{ __typename }","__proto__":{"isAdmin":true}}',
            '{"query":"{ __typename }","constructor":{"prototype":{"x":1}}}',
            '{"query":"{ __typename }","query":"{ viewer { apiKey { id } } }"}',
            '{"query":"{ __typename }"} trailing',
            '\ufeff{"query":"{ __typename }"}',
          ]),
          { contentType: random.chance(0.8) ? 'application/json' : random.pick(CONTENT_TYPES) },
        ),
    ],
    [
      'body around the size limit',
      () => {
        const size = BODY_LIMIT + random.pick([-200, -50, 0, 1, 100, 50_000]);
        const filler = random.pick(['a', ' ', 'é']);
        const head = '{"query":"{ __typename }","variables":{"pad":"';
        const padding = filler.repeat(
          Math.max(0, Math.floor((size - head.length - 3) / Buffer.byteLength(filler))),
        );
        return post(random, kit, `${head}${padding}"}}`);
      },
      0.3,
    ],
    [
      'huge query string',
      () =>
        post(
          random,
          kit,
          JSON.stringify({ query: `{ __typename }${' '.repeat(BODY_LIMIT - random.pick([100, 1000, 0]))}` }),
        ),
      0.3,
    ],
    [
      'deeply nested JSON',
      () => {
        const levels = random.pick([100, 10_000, 200_000]);
        const nested = random.chance(0.5)
          ? deeplyNestedJson(levels)
          : deeplyNestedJson(levels, '{"a":', '}').replace(/\{"a":\}/, '{"a":1}');
        return post(
          random,
          kit,
          random.chance(0.5) ? nested : `{"query":"{ __typename }","variables":{"x":${nested}}}`,
        );
      },
    ],
    [
      'deeply nested JSON into a JSON argument',
      () => {
        const levels = random.pick([1000, 10_000, 100_000]);
        const nested = deeplyNestedJson(levels, '{"a":', '}').replace('{"a":}', '{"a":1}');
        return post(
          random,
          kit,
          `{"query":"mutation($input: CreateTenantInput!) { createTenant(input: $input) { id } }","variables":{"input":{"name":"","settings":${nested}}}}`,
        );
      },
    ],
    [
      'GET with an odd query string',
      () => ({
        method: 'GET',
        path: `/graphql?${random.pick([
          '',
          'query',
          'query=',
          `query=${encodeURIComponent('{ viewer { apiKey { id } } }')}`,
          `query=${encodeURIComponent('{ viewer { apiKey { id } } }')}&variables=notjson`,
          `query=${encodeURIComponent('{ viewer { apiKey { id } } }')}&variables=%5B1%5D`,
          `query=${encodeURIComponent('{ viewer { apiKey { id } } }')}&extensions=%7B`,
          `query=${encodeURIComponent('mutation { deleteServer(id: "x") }')}`,
          'query=%E0%A4%A',
          'query=%00',
          'query[]=a&query[]=b',
          'query[a]=b',
          `query=${'a'.repeat(7000)}`,
          '%%%',
          `a=${'&'.repeat(1000)}`,
          'operationName=X&operationName=Y&query=%7B__typename%7D',
        ])}`,
        headers: {
          ...authorizationHeader(random, kit, random.pick<KeyChoice>(['admin', 'tenant', 'none', 'garbage'])),
          ...(random.chance(0.6) ? { 'apollo-require-preflight': 'true' } : {}),
          ...oddHeaders(random),
        },
      }),
    ],
    [
      'odd method',
      () => ({
        method: random.pick(['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO']),
        path: '/graphql',
        headers: {
          'content-type': 'application/json',
          ...authorizationHeader(random, kit, 'admin'),
          ...oddHeaders(random),
        },
        body: valid,
      }),
    ],
    [
      'odd path',
      () => ({
        method: 'POST',
        path: random.pick([
          '/graphql/',
          '/graphql/x',
          '/GRAPHQL',
          '/graphql;x',
          '/graphql%00',
          '/graphql?x=%ZZ',
        ]),
        headers: { 'content-type': 'application/json', ...authorizationHeader(random, kit, 'admin') },
        body: valid,
      }),
    ],
    [
      'odd headers on a valid request',
      () => ({
        method: 'POST',
        path: '/graphql',
        headers: {
          'content-type': 'application/json',
          ...authorizationHeader(random, kit, random.pick<KeyChoice>(['admin', 'tenant', 'garbage'])),
          'x-request-id': random.pick(['a'.repeat(8000), 'ok-id', '\u00ff\u00fe', 'x y z']),
          'x-forwarded-for': random.pick(['garbage', '1.1.1.1,,garbage', '::ffff:1.2.3.4', '[', '']),
          ...oddHeaders(random),
        },
        body: valid,
      }),
    ],
  ];
  // The bodies near the size limit are a megabyte each: fewer of them keep the run short.
  const [label, make] = new Weighted(shapes.map((shape) => [shape, shape[2] ?? 1] as const)).pick(random);
  return { label, probe: make() };
}

function graphqlBody(query: string, variables?: unknown, operationName?: unknown): string {
  return JSON.stringify({
    query,
    ...(variables === undefined ? {} : { variables }),
    ...(operationName === undefined ? {} : { operationName }),
  });
}

/** The case with the given index: all of its randomness comes from `random`. */
export function httpCase(random: Random, kit: FuzzKit, index: number): HttpCase {
  const roll = random.next();
  if (roll < 0.22) {
    const { label, probe } = rawBodyCase(random, kit);
    const mutation = label.includes('JSON argument');
    return { index, family: 'raw body', label, probe, mutation };
  }
  if (roll < 0.47) {
    const operation = random.pick(kit.operations);
    const variables = operationVariables(random, kit, operation);
    return {
      index,
      family: 'broken syntax',
      label: operation.name,
      probe: post(random, kit, graphqlBody(mutateTokens(random, operation.query), variables)),
      // A token edit may leave a mutation valid; its variables are still poisoned.
      mutation: false,
    };
  }
  if (roll < 0.62) {
    const attack = structuralAttack(random);
    return {
      index,
      family: 'structural attack',
      label: attack.label,
      probe: post(
        random,
        kit,
        graphqlBody(
          attack.query,
          random.chance(0.2) ? randomJson(random, 2) : undefined,
          attack.operationName,
        ),
      ),
      mutation: false,
    };
  }
  const operation = random.pick(kit.operations.filter((op) => op.definition.operation !== 'subscription'));
  const isMutation = operation.definition.operation === 'mutation';
  const variables = operationVariables(random, kit, operation);
  return {
    index,
    family: 'random variables',
    label: operation.name,
    probe: post(
      random,
      kit,
      graphqlBody(operation.query, variables, random.chance(0.9) ? operation.name : undefined),
    ),
    mutation: isMutation,
  };
}

// ---------------------------------------------------------------------------------------------------------
// graphql-ws cases

export type WsStep =
  | { readonly send: string | Buffer }
  /** Wait for connection_ack (or the socket closing). */
  | { readonly awaitAck: true };

export interface WsCase {
  readonly index: number;
  readonly label: string;
  /** The subprotocol offered, or none. */
  readonly protocols: string[];
  readonly steps: WsStep[];
}

export function wsCase(random: Random, kit: FuzzKit, index: number): WsCase {
  const init = (authorization: unknown) =>
    JSON.stringify({ type: 'connection_init', payload: { authorization } });
  const goodInit = () => init(`Bearer ${random.pick([kit.world.adminKey, kit.world.tenantKey])}`);
  const subscribe = (id: unknown, payload: unknown) => JSON.stringify({ id, type: 'subscribe', payload });
  const fuzzedPayload = () => {
    const operation = random.pick(kit.operations.filter((op) => op.definition.operation !== 'mutation'));
    const query = random.chance(0.3) ? mutateTokens(random, operation.query) : operation.query;
    return random.pick([
      () => ({ query, variables: randomVariables(random, kit, operation.definition, { realIds: true }) }),
      () => ({ query, operationName: random.pick(['Nope', '', operation.name]) }),
      () => ({ query: structuralAttack(random).query }),
      () => ({
        query: 'query A { __typename } query B { __typename }',
        operationName: random.pick(['C', undefined]),
      }),
      () => ({ query: 5 }),
      () => ({ query: '{ __typename }', variables: random.pick(['x', [1], 5]) }),
      () => randomJson(random, 2),
    ])();
  };
  const sessions: [string, () => WsStep[]][] = [
    ['non-JSON text', () => [{ send: randomText(random, 50) }]],
    ['binary garbage', () => [{ send: randomBytes(random, random.int(1, 200)) }]],
    ['JSON of a wrong shape', () => [{ send: JSON.stringify(randomJson(random, 3)) }]],
    [
      'unknown message type',
      () => [
        {
          send: JSON.stringify({ type: random.pick(['start', 'connection_terminate', 'GQL_START', '', 5]) }),
        },
      ],
    ],
    ['subscribe before connection_init', () => [{ send: subscribe('1', { query: '{ __typename }' }) }]],
    [
      'connection_init without a payload object',
      () => [
        {
          send: JSON.stringify({ type: 'connection_init', payload: random.pick(['x', 5, [1], null, true]) }),
        },
        { awaitAck: true },
      ],
    ],
    [
      'connection_init with a bad key',
      () => [
        { send: init(random.chance(0.5) ? garbageAuthorization(random) : randomJson(random, 2)) },
        { awaitAck: true },
      ],
    ],
    ['connection_init twice', () => [{ send: goodInit() }, { send: goodInit() }]],
    [
      'oversized message',
      () => [
        { send: JSON.stringify({ type: 'connection_init', payload: { pad: 'x'.repeat(BODY_LIMIT + 10) } }) },
      ],
    ],
    [
      'ping and pong',
      () => [
        { send: JSON.stringify({ type: random.pick(['ping', 'pong']), payload: randomJson(random, 2) }) },
      ],
    ],
    [
      'malformed subscribes after the ack',
      () => [
        { send: goodInit() },
        { awaitAck: true },
        ...Array.from(
          { length: random.int(1, 4) },
          (_, i): WsStep => ({
            send: random.chance(0.85)
              ? subscribe(random.chance(0.9) ? `s${i}` : random.pick([5, null, '', {}]), fuzzedPayload())
              : random.pick([
                  JSON.stringify({ type: 'complete', id: random.pick(['nope', 5]) }),
                  JSON.stringify({ type: 'subscribe' }),
                  JSON.stringify({ type: 'subscribe', id: 'x', payload: 'x' }),
                  randomText(random, 20),
                ]),
          }),
        ),
      ],
    ],
    [
      'duplicate subscription id',
      () => [
        { send: goodInit() },
        { awaitAck: true },
        { send: subscribe('same', { query: 'subscription { serverHealthChanged { serverId } }' }) },
        { send: subscribe('same', { query: '{ __typename }' }) },
      ],
    ],
  ];
  // Sessions that get past the handshake reach the most code: half of the cases are those.
  const afterAck = sessions.filter(([name]) => name === 'malformed subscribes after the ack');
  const [label, steps] = random.pick(random.chance(0.5) ? afterAck : sessions);
  const protocols = random.chance(0.9)
    ? ['graphql-transport-ws']
    : random.pick([[], ['graphql-ws'], ['nope'], ['graphql-transport-ws', 'x']]);
  return { index, label, protocols, steps: steps() };
}
