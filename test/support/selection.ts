import {
  type GraphQLNamedType,
  type GraphQLSchema,
  getNamedType,
  isAbstractType,
  isLeafType,
  isObjectType,
  isRequiredArgument,
} from 'graphql';

/**
 * A selection set of every field of `type` that can be asked for without arguments (or with their defaults),
 * `levels` levels of objects deep (1: only its own scalars). Generated from the schema, so a field added
 * later is selected too. Null when nothing can be selected at this depth.
 */
export function selectEverything(
  schema: GraphQLSchema,
  type: GraphQLNamedType,
  levels: number,
): string | null {
  if (isLeafType(type)) return '';
  if (levels <= 0) return null;
  if (isAbstractType(type)) {
    const branches = schema.getPossibleTypes(type).flatMap((member) => {
      const selection = selectEverything(schema, member, levels);
      return selection === null ? [] : [`... on ${member.name} ${selection}`];
    });
    return branches.length === 0 ? null : `{ __typename ${branches.join(' ')} }`;
  }
  if (!isObjectType(type)) return null;
  const fields = Object.values(type.getFields()).flatMap((field) => {
    if (field.args.some(isRequiredArgument)) return [];
    const named = getNamedType(field.type);
    const selection = isLeafType(named) ? '' : selectEverything(schema, named, levels - 1);
    return selection === null ? [] : [`${field.name} ${selection}`.trim()];
  });
  return fields.length === 0 ? null : `{ ${fields.join(' ')} }`;
}

/**
 * One root field as a complete operation selecting everything under it: `variables` name the arguments to
 * pass (typed as the schema declares them), e.g. `rootOperation(schema, 'Query', 'server', { id })`.
 */
export function rootOperation(
  schema: GraphQLSchema,
  root: 'Query' | 'Mutation' | 'Subscription',
  field: string,
  variables: Record<string, unknown>,
  levels = 5,
): string {
  const rootType = {
    Query: schema.getQueryType(),
    Mutation: schema.getMutationType(),
    Subscription: schema.getSubscriptionType(),
  }[root];
  const definition = rootType?.getFields()[field];
  if (!definition) throw new Error(`${root}.${field} is not in the schema`);
  const args = definition.args.filter((arg) => arg.name in variables);
  const declared = args.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = selectEverything(schema, getNamedType(definition.type), levels) ?? '';
  return `${root.toLowerCase()}${declared ? `(${declared})` : ''} { ${field}${passed ? `(${passed})` : ''} ${selection} }`;
}
