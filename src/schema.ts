import { buildSubgraphSchema, printSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { createPubSub } from '@graphql-yoga/subscription';
import type { GraphQLSchema } from 'graphql';
import { gql } from 'graphql-tag';
import {
  buildSchema,
  type ClassType,
  createResolversMap,
  type NonEmptyArray,
  type PubSub,
} from 'type-graphql';
import { scopeAuthChecker } from './graphql/access.js';
import { DateTimeScalar } from './graphql/scalars.js';
import { modules } from './modules.js';

/** Every feature's resolvers: the one place the API is assembled. */
const resolvers = modules.flatMap(
  (module): readonly ClassType[] => module.resolvers,
) as NonEmptyArray<ClassType>;

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])';

/**
 * Builds the API as an Apollo Federation 2 subgraph: type-graphql produces the schema from the resolvers,
 * then `buildSubgraphSchema` adds `_service` and `_entities` so a router can compose it.
 */
export async function buildAppSchema(pubSub: PubSub): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    pubSub,
    authChecker: scopeAuthChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    // The subgraph wrapper below validates the final schema; type-graphql's own check rejects @key.
    skipCheck: true,
  });
  const typeDefs = gql`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`;
  // type-graphql's resolver map and Apollo's differ only in typing (type-graphql issue 1768).
  const resolverMap = createResolversMap(schema) as GraphQLResolverMap<unknown>;
  for (const module of modules) {
    for (const [typeName, resolveReference] of Object.entries(module.references ?? {})) {
      // Apollo's map types each entry as field resolvers; __resolveReference is the subgraph's own hook.
      resolverMap[typeName] = {
        ...resolverMap[typeName],
        __resolveReference: resolveReference,
      } as GraphQLResolverMap<unknown>[string];
    }
  }
  return buildSubgraphSchema({ typeDefs, resolvers: resolverMap });
}

/** The subgraph SDL with its federation directives, as committed in schema/schema.graphql. */
export async function printAppSchema(): Promise<string> {
  // Printing needs a schema, and a schema with subscriptions needs a pubSub; nothing is published.
  const schema = await buildAppSchema(createPubSub());
  return `${printSubgraphSchema(schema).trim()}\n`;
}
