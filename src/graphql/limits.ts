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
import { NoNulCharacterRule } from './nul-character.js';

/**
 * What one operation may ask for, checked before anything runs. Calibrated on the contract operations
 * (schema/operations/*.graphql): they reach at most 5 levels (fragments flattened), a cost of 738
 * (ServerDetail) and about 110 tokens, with no aliases or directives; test/security.test.ts keeps them
 * passing at two levels less and half the cost and tokens.
 */
export const OPERATION_LIMITS = {
  /** Levels of nested selections; fragments add no level of their own. */
  maxDepth: 8,
  maxAliases: 15,
  maxDirectives: 10,
  /**
   * graphql-armor's estimate: objects cost 2, scalars 1, each level deeper ×1.5, a literal `first`/`last`
   * multiplies its selection. Page sizes passed as variables are bounded by the page size cap instead.
   */
  maxCost: 5000,
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
      const found = /found ([\d.]+)/.exec(error.message)?.[1];
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
    costLimit: {
      ...quietly,
      maxCost: limits.maxCost,
      onReject: [reject('MAX_COST', limits.maxCost, 'cost')],
    },
  }).protect().validationRules;
}

export function limitParseOptions(limits: OperationLimits = OPERATION_LIMITS): ParseOptions {
  return { maxTokens: limits.maxTokens };
}

const SUGGESTION = / ?Did you mean(.+?)\?$/;
// graphql-js spells it "more that" (16.x) or "more than".
const TOO_MANY_TOKENS = /Document contains more th(?:an|at) \d+ tokens/;

/**
 * Without introspection, "Did you mean …?" would still spell out field, type and enum names to anyone who
 * guesses close enough; this strips it from every error (validation, variables, execution). It also names
 * the token limit on the parse error graphql-js raises for it, like the other limits, and refuses
 * subscriptions, which HTTP cannot serve: executed once, with no event, their resolvers would fail.
 */
export function limitsPlugin(options: { hideSuggestions: boolean; maxTokens: number }): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are served over graphql-ws: open a websocket to this URL to subscribe.',
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
        async didEncounterErrors({ errors }) {
          for (const error of errors) {
            if (options.hideSuggestions) error.message = error.message.replace(SUGGESTION, '');
            if (TOO_MANY_TOKENS.test(error.message)) {
              Object.assign(error.extensions, { limit: 'MAX_TOKENS', max: options.maxTokens });
            }
          }
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
    plugin: limitsPlugin({ hideSuggestions: !introspection, maxTokens: limits.maxTokens }),
  };
}

/** Parses and validates an operation as the HTTP endpoint would, for transports outside Apollo (graphql-ws). */
export function checkOperation(
  schema: GraphQLSchema,
  query: string,
  options: { introspection: boolean; limits?: OperationLimits },
): { document: DocumentNode } | { errors: GraphQLError[] } {
  const limits = options.limits ?? OPERATION_LIMITS;
  let document: DocumentNode;
  try {
    document = parse(query, limitParseOptions(limits));
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    const extensions = TOO_MANY_TOKENS.test(error.message)
      ? { code: 'GRAPHQL_PARSE_FAILED', limit: 'MAX_TOKENS', max: limits.maxTokens }
      : { code: 'GRAPHQL_PARSE_FAILED' };
    return { errors: [new GraphQLError(error.message, { extensions })] };
  }
  const rules = [
    ...specifiedRules,
    ...(options.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
    ...limitRules(limits),
    NoNulCharacterRule,
  ];
  const errors = validate(schema, document, rules);
  if (errors.length === 0) return { document };
  return {
    errors: errors.map(
      (error) =>
        new GraphQLError(options.introspection ? error.message : error.message.replace(SUGGESTION, ''), {
          nodes: error.nodes,
          extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
        }),
    ),
  };
}
