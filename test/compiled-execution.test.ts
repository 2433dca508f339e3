import type { GatewayExecutor, GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import {
  execute,
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  getOperationAST,
  parse,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { compiledExecutionGateway } from '../src/graphql/compiled-execution.js';

// Queries run compiled by graphql-jit; whatever a client sends, the answer must be the one graphql-js gives.

const Mode = new GraphQLEnumType({
  name: 'Mode',
  values: { FAST: { value: 'fast' }, SLOW: { value: 'slow' } },
});
const Options = new GraphQLInputObjectType({
  name: 'Options',
  fields: {
    flag: { type: new GraphQLNonNull(GraphQLBoolean), defaultValue: true },
    mode: { type: Mode, defaultValue: 'slow' },
    modes: { type: new GraphQLList(new GraphQLNonNull(Mode)), defaultValue: ['fast'] },
    note: { type: GraphQLString },
  },
});
const Nested = new GraphQLInputObjectType({
  name: 'Nested',
  fields: { options: { type: new GraphQLList(Options) }, name: { type: new GraphQLNonNull(GraphQLString) } },
});

/** Every resolver answers with the arguments it received, so any difference in coercion shows. */
const echo = (_root: unknown, args: unknown) => JSON.stringify(args);
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      echo: { type: GraphQLString, args: { options: { type: Options } }, resolve: echo },
      nested: { type: GraphQLString, args: { nested: { type: new GraphQLNonNull(Nested) } }, resolve: echo },
      mode: {
        type: Mode,
        args: { mode: { type: Mode, defaultValue: 'fast' } },
        resolve: (_root, args) => args.mode,
      },
    },
  }),
  mutation: new GraphQLObjectType({
    name: 'Mutation',
    fields: { set: { type: GraphQLString, args: { options: { type: Options } }, resolve: echo } },
  }),
});

const executor: Promise<GatewayExecutor> = compiledExecutionGateway(schema)
  .load({ apollo: { key: '', keyHash: '', graphRef: '' } })
  .then(({ executor }) => {
    if (!executor) throw new Error('no executor');
    return executor;
  });

/** The request as Apollo hands it over: `operationName` is the resolved one, null when none matched. */
async function compiled(query: string, variables: Record<string, unknown>, operationName?: string) {
  const document = parse(query);
  const operation = getOperationAST(document, operationName);
  const request = {
    request: { query, variables, operationName },
    document,
    operation,
    operationName: operation?.name?.value ?? null,
    queryHash: query,
    context: {},
  } as unknown as GatewayGraphQLRequestContext;
  return JSON.parse(JSON.stringify(await (await executor)(request)));
}

async function reference(query: string, variables: Record<string, unknown>, operationName?: string) {
  const result = await execute({ schema, document: parse(query), variableValues: variables, operationName });
  return JSON.parse(JSON.stringify(result));
}

describe('compiled execution', () => {
  it.each([
    [
      'input defaults, enums kept as clients send them',
      'query($o: Options) { echo(options: $o) }',
      { o: {} },
    ],
    [
      'given input fields win over defaults',
      'query($o: Options) { echo(options: $o) }',
      {
        o: { flag: false, mode: 'FAST', modes: ['SLOW'], note: null },
      },
    ],
    ['an omitted variable', 'query($o: Options) { echo(options: $o) }', {}],
    ['a variable that is null', 'query($o: Options) { echo(options: $o) }', { o: null }],
    [
      'defaults inside lists of nested inputs',
      'query($n: Nested!) { nested(nested: $n) }',
      {
        n: { name: 'x', options: [{}, { mode: 'FAST' }, null] },
      },
    ],
    [
      'a single value for a list',
      'query($n: Nested!) { nested(nested: $n) }',
      { n: { name: 'x', options: {} } },
    ],
    ['a field argument default and an enum result', 'query { mode a: mode(mode: SLOW) }', {}],
    ['a variable default', 'query($m: Mode = SLOW) { mode(mode: $m) }', {}],
    ['an omitted variable inside an input literal', 'query($n: String) { echo(options: { note: $n }) }', {}],
    [
      'variables inside list and input literals',
      'query($n: String, $m: Mode) { nested(nested: { name: "x", options: [{ note: $n, mode: $m }] }) }',
      { m: 'FAST' },
    ],
    ['an invalid value', 'query($o: Options) { echo(options: $o) }', { o: { flag: 'yes', mode: 'MEDIUM' } }],
    ['a missing required variable', 'query($n: Nested!) { nested(nested: $n) }', {}],
    ['an unknown input field', 'query($o: Options) { echo(options: $o) }', { o: { colour: 'red' } }],
    [
      'more errors than graphql-js reports',
      'query($n: Nested!) { nested(nested: $n) }',
      {
        n: { name: 'x', options: Array.from({ length: 60 }, () => ({ flag: 1 })) },
      },
    ],
    [
      '@skip and @include with variables and defaults',
      'query($s: Boolean = true, $i: Boolean!) { a: mode @skip(if: $s) b: mode @include(if: $i) c: mode @skip(if: false) }',
      { i: false },
    ],
    [
      'fragments, inline fragments, aliases and __typename',
      'query { __typename ...F ... on Query { m: mode(mode: SLOW) } } fragment F on Query { mode items { __typename id } }',
      {},
    ],
    ['resolver errors, with nulls where graphql-js leaves them', 'query { items { id checked maybe } }', {}],
    ['an error in a non-null list that nulls its parent', 'query { mode strictItems { id checked } }', {}],
    [
      'a mutation (run by graphql-js, absent and null kept apart)',
      'mutation($o: Options) { set(options: $o) }',
      {
        o: { note: null },
      },
    ],
  ])('answers as graphql-js: %s', async (_case, query, variables) => {
    expect(await compiled(query, variables)).toEqual(await reference(query, variables));
  });

  it.each([
    ['an unknown operation name', 'query A { mode }', 'B'],
    ['several operations and no name', 'query A { mode } query B { mode }', undefined],
    ['the operation named', 'query A { mode } query B { b: mode(mode: SLOW) }', 'B'],
  ])('picks the operation as graphql-js does: %s', async (_case, query, operationName) => {
    expect(await compiled(query, {}, operationName)).toEqual(await reference(query, {}, operationName));
  });

  it('reuses one compiled query for every request with the same text', async () => {
    const query = 'query($o: Options) { echo(options: $o) }';
    const first = await compiled(query, { o: { note: 'first' } });
    const second = await compiled(query, { o: { note: 'second' } });
    expect(first.data.echo).toContain('first');
    expect(second.data.echo).toContain('second');
  });
});
