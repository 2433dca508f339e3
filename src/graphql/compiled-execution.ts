import type {
  GatewayExecutionResult,
  GatewayGraphQLRequestContext,
  GatewayInterface,
} from '@apollo/server-gateway-interface';
import {
  type DocumentNode,
  execute,
  type GraphQLEnumType,
  type GraphQLInputObjectType,
  type GraphQLInputType,
  type GraphQLScalarType,
  type GraphQLSchema,
  getVariableValues,
  isInputObjectType,
  isListType,
  isNonNullType,
  Kind,
  type ListValueNode,
  type ObjectFieldNode,
  OperationTypeNode,
  typeFromAST,
  visit,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';
import type { GraphQLContext } from './context.js';

/** Distinct queries kept compiled; dashboards send a few dozen, so the bound only limits abuse. */
const MAX_COMPILED_QUERIES = 250;

/** As graphql-js's own `execute`: past this many, variable coercion stops with "Too many errors". */
const MAX_VARIABLE_ERRORS = 50;

type Variables = Record<string, unknown>;

/**
 * Executes queries with graphql-jit: each distinct query is compiled once into a plain JavaScript function that
 * resolves and completes exactly its selection, instead of graphql-js walking the document and the schema for
 * every field of every response (on a page of 100 servers with their tools, most of the server's CPU).
 *
 * Answers must be exactly graphql-js's, so graphql-js keeps what graphql-jit does differently: mutations (few,
 * and their inputs tell "leave unchanged", absent, from "clear", null), queries with variables inside input
 * literals (see `usesVariablesInsideLiterals`), and variable coercion: graphql-js coerces first, so invalid
 * variables fail exactly as there (same messages, BAD_USER_INPUT, HTTP 400), and graphql-jit receives them
 * with the input fields' defaults filled in, which it would not apply. test/compiled-execution.test.ts holds
 * the differences.
 *
 * Apollo Server takes a custom executor only through its gateway interface, so this is a "gateway" that serves
 * this process's own schema. Everything before execution (parsing, validation, limits, context) and after it
 * (error formatting and masking, plugins, HTTP) stays Apollo's; subscriptions run on graphql-ws, unchanged.
 */
export function compiledExecutionGateway(schema: GraphQLSchema): GatewayInterface {
  // Per distinct query: its compiled form, or null when it runs on graphql-js.
  const plans = new Map<string, CompiledQuery | null>();

  const planFor = (request: GatewayGraphQLRequestContext): CompiledQuery | null => {
    const key = `${request.queryHash}:${request.operationName ?? ''}`;
    let plan = plans.get(key);
    if (plan === undefined) {
      const compiled = usesVariablesInsideLiterals(request.document)
        ? null
        : compileQuery(schema, request.document, request.operationName ?? undefined);
      plan = compiled !== null && isCompiledQuery(compiled) ? compiled : null;
      if (plans.size >= MAX_COMPILED_QUERIES) {
        // A Map iterates in insertion order: its first key is the oldest.
        const oldest = plans.keys().next().value;
        if (oldest !== undefined) plans.delete(oldest);
      }
      plans.set(key, plan);
    }
    return plan;
  };

  const run = async (
    request: GatewayGraphQLRequestContext<GraphQLContext>,
  ): Promise<GatewayExecutionResult> => {
    const { operation, context } = request;
    const variables: Variables = request.request.variables ?? {};
    // Apollo passes no operation (despite the type) when it could not pick one: graphql-js answers why.
    const plan =
      operation != null && operation.operation === OperationTypeNode.QUERY ? planFor(request) : null;
    if (plan === null) {
      return execute({
        schema,
        document: request.document,
        contextValue: context,
        variableValues: variables,
        // The name the client asked for: Apollo resolves `operationName` to null when no operation has it.
        operationName: request.request.operationName,
      });
    }
    const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables, {
      maxErrors: MAX_VARIABLE_ERRORS,
    });
    if (coerced.errors) return { errors: coerced.errors };
    const withDefaults: Variables = {};
    for (const definition of operation.variableDefinitions ?? []) {
      const name = definition.variable.name.value;
      const type = typeFromAST(schema, definition.type) as GraphQLInputType;
      if (name in variables) withDefaults[name] = withInputDefaults(type, variables[name]);
    }
    return plan.query(undefined, context, withDefaults);
  };

  return {
    onSchemaLoadOrUpdate(callback) {
      callback({ apiSchema: schema, coreSupergraphSdl: '' });
      return () => {};
    },
    async load() {
      // Apollo hands every request the context it built; ours is always a GraphQLContext.
      return { executor: (request) => run(request as GatewayGraphQLRequestContext<GraphQLContext>) };
    },
    async stop() {},
  };
}

/**
 * Whether a variable stands inside an input object or list literal (`filter: { search: $text }`). graphql-jit
 * passes such a variable as null when the client leaves it out, where graphql-js leaves the field out, so
 * these queries run on graphql-js. Dashboards pass whole inputs as variables, which compile.
 */
function usesVariablesInsideLiterals(document: DocumentNode): boolean {
  let found = false;
  const inLiteral = (node: ObjectFieldNode | ListValueNode) => {
    const values = node.kind === Kind.LIST ? node.values : [node.value];
    if (values.some((value) => value.kind === Kind.VARIABLE)) found = true;
  };
  visit(document, { ObjectField: inLiteral, ListValue: inLiteral });
  return found;
}

/** A variable's value (valid: graphql-js coerced it) with every omitted input field that has a default set to it. */
function withInputDefaults(type: GraphQLInputType, value: unknown): unknown {
  return mapInput(type, value, (objectType, input) => {
    const completed: Variables = {};
    for (const field of Object.values(objectType.getFields())) {
      if (field.name in input) completed[field.name] = withInputDefaults(field.type, input[field.name]);
      else if (field.defaultValue !== undefined)
        completed[field.name] = asInput(field.type, field.defaultValue);
    }
    return completed;
  });
}

/** A default value (held as graphql-js coerced it: enums as their internal values) as a client would send it. */
function asInput(type: GraphQLInputType, value: unknown): unknown {
  return mapInput(
    type,
    value,
    (objectType, input) =>
      Object.fromEntries(
        Object.values(objectType.getFields())
          .filter((field) => field.name in input)
          .map((field) => [field.name, asInput(field.type, input[field.name])]),
      ),
    (leafType, leaf) => leafType.serialize(leaf),
  );
}

/**
 * Walks an input value along its type: null stays, lists go item by item (a single value stands for a list of
 * one), input objects go to `object`, enums and scalars to `leaf`.
 */
function mapInput(
  type: GraphQLInputType,
  value: unknown,
  object: (type: GraphQLInputObjectType, input: Variables) => unknown,
  leaf: (type: GraphQLScalarType | GraphQLEnumType, value: unknown) => unknown = (_type, same) => same,
): unknown {
  if (value === null || value === undefined) return value;
  if (isNonNullType(type)) return mapInput(type.ofType, value, object, leaf);
  if (isListType(type)) {
    return Array.isArray(value)
      ? value.map((item) => mapInput(type.ofType, item, object, leaf))
      : mapInput(type.ofType, value, object, leaf);
  }
  return isInputObjectType(type) ? object(type, value as Variables) : leaf(type, value);
}
