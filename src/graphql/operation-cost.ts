import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
  Kind,
  type OperationDefinitionNode,
  type TypeNode,
} from 'graphql';
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
  const operationName = check.operationName ?? undefined;
  const variables = check.variables ?? undefined;
  const key = fittingCostKey(check.document, operationName, variables, check.maxCost);
  const fitting = key === null ? undefined : fittingCosts.get(check.document);
  if (key !== null && fitting?.has(key)) return null;
  const cost = operationCost(check.schema, check.document, operationName, variables);
  if (cost === null || cost <= check.maxCost) {
    if (key !== null && cost !== null) rememberFitting(check.document, key);
    return null;
  }
  return new GraphQLError(
    `The operation exceeds the cost limit of ${check.maxCost} (found ${cost}). ${check.advice}`,
    {
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit: 'MAX_COST', max: check.maxCost, ...extensions },
    },
  );
}

/**
 * The operations known to fit the cost limit, per document, by `fittingCostKey`. Apollo hands every request
 * of a query it has seen the same DocumentNode, so a dashboard's queries are costed once, not at each request
 * (graphql-query-complexity walks the whole selection). Only what fits is kept: a document over the limit is
 * costed again each time, so its error (and which error comes first with bad variables) never changes.
 */
const fittingCosts = new WeakMap<DocumentNode, Set<string>>();
const MAX_KEYS_PER_DOCUMENT = 64;

function rememberFitting(document: DocumentNode, key: string): void {
  let keys = fittingCosts.get(document);
  if (keys === undefined) {
    keys = new Set();
    fittingCosts.set(document, keys);
  }
  if (keys.size >= MAX_KEYS_PER_DOCUMENT) keys.clear();
  keys.add(key);
}

/**
 * What the check of an operation depends on besides its document: the limit, its name and the values of its Int and
 * Boolean variables. A cost reads only page sizes (`first`/`last`, Int) and `@skip`/`@include` (Boolean), and
 * validation lets only variables of those types stand there; an id or an input changes nothing. `null` when
 * the operation cannot be told (graphql-query-complexity then decides).
 */
function fittingCostKey(
  document: DocumentNode,
  operationName: string | undefined,
  variables: Record<string, unknown> | undefined,
  maxCost: number,
): string | null {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    operationName === undefined
      ? operations.length === 1
        ? operations[0]
        : undefined
      : operations.find((candidate) => candidate.name?.value === operationName);
  if (operation === undefined) return null;
  // An absent variable (its default applies) is not a null one: [] and [null].
  const values = (operation.variableDefinitions ?? [])
    .filter((definition) => COST_INPUT_TYPES.has(namedTypeOf(definition.type)))
    .map(({ variable }) =>
      variables !== undefined && Object.hasOwn(variables, variable.name.value)
        ? [variables[variable.name.value]]
        : [],
    );
  return JSON.stringify([maxCost, operationName ?? null, values]);
}

const COST_INPUT_TYPES = new Set(['Int', 'Boolean']);

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}
