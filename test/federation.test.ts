import { composeServices } from '@apollo/composition';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { gql } from 'graphql-tag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyScope } from '../src/graphql/access.js';
import { printAppSchema } from '../src/schema.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { seed } from './support/seed.js';

// A neighbouring subgraph, as another team would write it: it knows servers only by id and adds a field.
const REVIEWS_SDL = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type MCPServer @key(fields: "id") {
    id: ID!
    rating: Int!
  }
`;

let db: TestDatabase;
let app: TestApp;
let reviews: ApolloServer;
let reviewsUrl: string;
let gateway: ApolloServer;
let gatewayUrl: string;
let tenantKey: string;
let serverIds: string[];
let foreignServerId: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await startTestApp(db.target);
  const acme = await seed(app.orm).tenant('acme');
  const globex = await seed(app.orm).tenant('globex');
  tenantKey = (await acme.key([ApiKeyScope.READ])).key;
  const servers = await acme.servers(
    Array.from({ length: 100 }, (_, index) => ({
      name: `s${String(index).padStart(3, '0')}`,
      tools: ['search'],
    })),
  );
  serverIds = servers.map((server) => server.id);
  foreignServerId = (await globex.servers([{ name: 'secret' }]))[0]?.id ?? '';

  reviews = new ApolloServer({
    schema: buildSubgraphSchema({
      typeDefs: REVIEWS_SDL,
      resolvers: {
        MCPServer: {
          __resolveReference: (reference: { id: string }) => ({ id: reference.id }),
          rating: (server: { id: string }) => server.id.charCodeAt(0) % 5,
        },
      },
    }),
  });
  reviewsUrl = (await startStandaloneServer(reviews, { listen: { port: 0, host: '127.0.0.1' } })).url;

  const composition = composeServices([
    { name: 'registry', typeDefs: parse(await printAppSchema()), url: app.url },
    { name: 'reviews', typeDefs: REVIEWS_SDL, url: reviewsUrl },
  ]);
  if (composition.errors) throw new Error(composition.errors.map((error) => error.message).join('\n'));

  gateway = new ApolloServer({
    gateway: new ApolloGateway({
      supergraphSdl: composition.supergraphSdl,
      // The router forwards the caller's key to the registry subgraph.
      buildService: ({ url }) =>
        new RemoteGraphQLDataSource<{ authorization?: string }>({
          url,
          willSendRequest({ request, context }) {
            if (context.authorization) request.http?.headers.set('authorization', context.authorization);
          },
        }),
    }),
  });
  const started = await startStandaloneServer(gateway, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  gatewayUrl = started.url;
});

afterAll(async () => {
  await gateway?.stop();
  await reviews?.stop();
  await app?.close();
  await db?.drop();
});

async function post(url: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${tenantKey}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: { message: string }[] };
}

describe('federation', () => {
  it('composes with another subgraph and answers a query across both through a gateway', async () => {
    const { data, errors } = await post(
      gatewayUrl,
      '{ servers(first: 3) { edges { node { id name tenant { name } rating } } } }',
    );
    expect(errors).toBeUndefined();
    const edges = (data?.servers as { edges: { node: Record<string, unknown> }[] } | undefined)?.edges ?? [];
    expect(edges.map((edge) => edge.node.name)).toEqual(['s000', 's001', 's002']);
    for (const { node } of edges) {
      expect(node.tenant).toEqual({ name: 'acme' });
      expect(node.rating).toBe((node.id as string).charCodeAt(0) % 5);
    }
  });

  const ENTITIES = `query($representations: [_Any!]!) {
    _entities(representations: $representations) { ... on MCPServer { id name tenant { name } } }
  }`;

  it("resolves 100 server references in a constant number of statements, and another tenant's as null", async () => {
    const representations = (ids: string[]) => ids.map((id) => ({ __typename: 'MCPServer', id }));
    const few = await app.countStatements(() =>
      post(app.url, ENTITIES, { representations: representations(serverIds.slice(0, 3)) }),
    );
    const many = await app.countStatements(() =>
      post(app.url, ENTITIES, { representations: representations(serverIds) }),
    );
    const entities = (many.result.data?._entities ?? []) as ({ id: string } | null)[];
    expect(entities.map((entity) => entity?.id)).toEqual(serverIds);
    expect(many.statements.length).toBe(few.statements.length);

    const foreign = await post(app.url, ENTITIES, {
      representations: representations([foreignServerId, 'not-a-uuid', serverIds[0] ?? '']),
    });
    const resolved = (foreign.data?._entities ?? []) as ({ id: string } | null)[];
    expect(resolved.map((entity) => entity?.id ?? null)).toEqual([null, null, serverIds[0]]);
  });
});
