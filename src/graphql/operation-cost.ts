import { type DocumentNode, GraphQLError, type GraphQLSchema, getNamedType, isLeafType } from 'graphql';
import { type ComplexityEstimator, getComplexity } from 'graphql-query-complexity';
import { DEFAULT_PAGE_SIZE } from './pagination.js';

// What an operation costs, computed with the request's variable values (graphql-query-complexity), so that
// `servers(first: 100)` and `servers(first: $first)` with `first: 100` cost the same and a variable cannot
// slip a large page past the limit.

/**
 * A scalar costs 1, an object 2 plus what is selected inside it; a field with a page size (`first`/`last`)
 * multiplies its selection by it (the default page size when it is not given), so the cost grows with the
 * rows an answer can hold.
 */
const pagedSelectionEstimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  const own = isLeafType(getNamedType(field.type)) ? 1 : 2;
  return own + pageSizeOf(field.args, args) * childComplexity;
};

function pageSizeOf(
  definitions: readonly { readonly name: string }[],
  args: Record<string, unknown>,
): number {
  const paged = definitions.some(({ name }) => name === 'first' || name === 'last');
  if (!paged) return 1;
  const size = args.first ?? args.last;
  return typeof size === 'number' && Number.isFinite(size) ? Math.max(1, size) : DEFAULT_PAGE_SIZE;
}

// A parsed document is kept by Apollo across requests, and a dashboard sends the same few variable sets again
// and again: each cost is worked out once per document, schema and variables (the walk over the document with
// the schema's types is a few percent of a list page's CPU). Bounded per document: cursors vary without end.
const costsByDocument = new WeakMap<
  DocumentNode,
  { schema: GraphQLSchema; costs: Map<string, number | null> }
>();
const MAX_COSTS_PER_DOCUMENT = 100;

/**
 * The cost of `operationName` in `document` with `variables`, or null when the variables do not fit the
 * operation: execution refuses those with BAD_USER_INPUT before anything runs.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
): number | null {
  let known = costsByDocument.get(document);
  if (known === undefined || known.schema !== schema) {
    known = { schema, costs: new Map() };
    costsByDocument.set(document, known);
  }
  const key = JSON.stringify([operationName ?? null, variables ?? {}]);
  let cost = known.costs.get(key);
  if (cost === undefined) {
    if (known.costs.size >= MAX_COSTS_PER_DOCUMENT) known.costs.clear();
    cost = computeCost(schema, document, operationName, variables);
    known.costs.set(key, cost);
  }
  return cost;
}

function computeCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
): number | null {
  try {
    return getComplexity({
      schema,
      query: document,
      operationName,
      variables: variables ?? {},
      estimators: [pagedSelectionEstimator],
    });
  } catch (error) {
    if (error instanceof GraphQLError) return null;
    throw error;
  }
}

export interface CostCheck {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operationName: string | null | undefined;
  readonly variables: Record<string, unknown> | null | undefined;
  readonly maxCost: number;
  /** Told to the client after the figures. */
  readonly advice: string;
}

/**
 * The error an operation over the cost limit gets before it runs (GRAPHQL_VALIDATION_FAILED, `limit: MAX_COST`),
 * or null when it fits; the same check for HTTP and graphql-ws.
 */
export function costLimitError(
  check: CostCheck,
  extensions: Record<string, unknown> = {},
): GraphQLError | null {
  const cost = operationCost(
    check.schema,
    check.document,
    check.operationName ?? undefined,
    check.variables ?? undefined,
  );
  if (cost === null || cost <= check.maxCost) return null;
  return new GraphQLError(
    `The operation exceeds the cost limit of ${check.maxCost} (found ${cost}). ${check.advice}`,
    {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_COST', max: check.maxCost, ...extensions },
    },
  );
}
