import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  type ParseOptions,
  parse,
  specifiedRules,
  type ValidationContext,
  type ValidationRule,
  validate,
} from 'graphql';
import { createErrorFormatter } from './error-masking.js';
import { NoNulCharacterRule } from './nul-character.js';
import { costLimitError } from './operation-cost.js';

/**
 * What one operation may ask for, checked before anything runs. Calibrated on the contract operations
 * (schema/operations/*.graphql): they reach at most 7 levels (VirtualServerList; fragments flattened), a cost
 * of about 4,800 at their largest pages (ServerList with 100 servers) and about 110 tokens, with no aliases or
 * directives; test/security.test.ts keeps them passing at two levels less and half the cost and tokens.
 */
export const OPERATION_LIMITS = {
  /** Levels of nested selections; fragments add no level of their own. */
  maxDepth: 9,
  maxAliases: 15,
  maxDirectives: 10,
  /**
   * operation-cost.ts: objects cost 2, scalars 1, a page size (`first`/`last`, literal or variable, else the
   * default) multiplies its selection.
   */
  maxCost: 20_000,
  /** Lexical tokens in the document, counted while parsing: a huge document is never even built. */
  maxTokens: 1000,
} as const;

export type OperationLimits = { readonly [K in keyof typeof OPERATION_LIMITS]: number };

/** The name a rejected operation carries in `extensions.limit`. */
export type LimitName = 'MAX_DEPTH' | 'MAX_ALIASES' | 'MAX_DIRECTIVES' | 'MAX_COST' | 'MAX_TOKENS';

const ADVICE = 'Split the operation into smaller ones.';

/**
 * graphql-armor's rules, reporting our own error: a GRAPHQL_VALIDATION_FAILED error whose `limit` names
 * the limit and `max` gives its value. Armor's depth rule (2.4.2) has the 2025 fixes: only the real
 * `__schema` field is exempt from depth and cost (not a fragment or operation named `__schema`), and a
 * fragment reused deeper counts at its deeper place.
 */
export function limitRules(limits: OperationLimits = OPERATION_LIMITS): ValidationRule[] {
  const reject =
    (limit: LimitName, max: number, what: string) =>
    (context: ValidationContext | null, error: GraphQLError) => {
      const found = /found (\d+(?:\.\d+)?)/.exec(error.message)?.[1];
      const message = `The operation exceeds the ${what} limit of ${max}${found ? ` (found ${found})` : ''}. ${ADVICE}`;
      context?.reportError(
        new GraphQLError(message, { extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, max } }),
      );
    };
  const quietly = { propagateOnRejection: false } as const;
  return new ApolloArmor({
    // Covered otherwise: tokens by graphql-js while parsing, suggestions by limitsPlugin.
    blockFieldSuggestion: { enabled: false },
    maxTokens: { enabled: false },
    maxDepth: {
      ...quietly,
      n: limits.maxDepth,
      flattenFragments: true,
      onReject: [reject('MAX_DEPTH', limits.maxDepth, 'depth')],
    },
    maxAliases: {
      ...quietly,
      n: limits.maxAliases,
      onReject: [reject('MAX_ALIASES', limits.maxAliases, 'alias')],
    },
    maxDirectives: {
      ...quietly,
      n: limits.maxDirectives,
      onReject: [reject('MAX_DIRECTIVES', limits.maxDirectives, 'directive')],
    },
    // Cost needs the request's variables, which validation rules never see: see operation-cost.ts.
    costLimit: { enabled: false },
  }).protect().validationRules;
}

export function limitParseOptions(limits: OperationLimits = OPERATION_LIMITS): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

/**
 * Checks the cost of each operation with its variables, and refuses subscriptions over HTTP, which cannot
 * serve them: executed once, with no event, their resolvers would fail. (Suggestions and the token limit's
 * name are the error formatter's: error-masking.ts.)
 */
export function limitsPlugin(maxCost: number): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, schema, document, operationName, request }) {
          if (operation?.operation === 'subscription') {
            throw new GraphQLError(
              'Subscriptions are served over graphql-ws: open a websocket to this URL to subscribe.',
              { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
            );
          }
          const check = {
            schema,
            document,
            operationName,
            variables: request.variables,
            maxCost,
            advice: ADVICE,
          };
          const tooCostly = costLimitError(check, { http: { status: 400 } });
          if (tooCostly) throw tooCostly;
        },
      };
    },
  };
}

/** The ApolloServer options that enforce the limits, introspection setting and suggestion hiding. */
export function apolloLimitOptions(introspection: boolean, limits: OperationLimits = OPERATION_LIMITS) {
  return {
    introspection,
    validationRules: [...limitRules(limits), NoNulCharacterRule],
    parseOptions: limitParseOptions(limits),
    // Apollo's default, stated: one operation per request, so limits cannot be multiplied by an array.
    allowBatchedHttpRequests: false,
    plugin: limitsPlugin(limits.maxCost),
    formatError: createErrorFormatter({ hideSuggestions: !introspection, maxTokens: limits.maxTokens }),
  };
}

/** Parses and validates an operation as the HTTP endpoint would, for transports outside Apollo (graphql-ws). */
export function checkOperation(
  schema: GraphQLSchema,
  query: string,
  options: {
    introspection: boolean;
    limits?: OperationLimits;
    operationName?: string | null;
    variables?: Record<string, unknown> | null;
  },
): { document: DocumentNode } | { errors: GraphQLError[] } {
  const limits = options.limits ?? OPERATION_LIMITS;
  let document: DocumentNode;
  try {
    document = parse(query, limitParseOptions(limits));
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    // The error formatter names the token limit, as over HTTP.
    return { errors: [new GraphQLError(error.message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })] };
  }
  const rules = [
    ...specifiedRules,
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ...limitRules(limits),
    NoNulCharacterRule,
  ];
  const errors = validate(schema, document, rules);
  if (errors.length === 0) {
    const tooCostly = costLimitError({
      schema,
      document,
      operationName: options.operationName,
      variables: options.variables,
      maxCost: limits.maxCost,
      advice: ADVICE,
    });
    return tooCostly ? { errors: [tooCostly] } : { document };
  }
  return {
    errors: errors.map(
      (error) =>
        new GraphQLError(error.message, {
          nodes: error.nodes,
          extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
    ),
  };
}
