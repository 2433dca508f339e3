import type { FieldNode, GraphQLNamedType, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { getNamedType, isInterfaceType, isObjectType, Kind } from 'graphql';

// A field's nodes belong to one parsed document (with its fragments), and both executors hand every call of
// the same field the same array: a list resolves it once per item, and a cached document on every request.
const selectedByFieldNodes = new WeakMap<readonly FieldNode[], Map<string, ReadonlySet<string>>>();

/**
 * The names of the fields the request selects at `path` below the field being resolved, through fragments
 * and inline fragments (e.g. `['edges', 'node']` under a connection: what each node is asked for). Aliases do
 * not matter, and a field under `@skip` / `@include` counts as selected: the answer tells a resolver what it
 * may need to load, so it errs on loading too much. Worked out once per field of a document, not per call.
 */
export function selectedFieldNames(
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): ReadonlySet<string> {
  let byPath = selectedByFieldNodes.get(info.fieldNodes);
  if (byPath === undefined) {
    byPath = new Map();
    selectedByFieldNodes.set(info.fieldNodes, byPath);
  }
  // Field names cannot contain a dot.
  const key = path.join('.');
  let names = byPath.get(key);
  if (names === undefined) {
    names = namesAt(info, path);
    byPath.set(key, names);
  }
  return names;
}

/**
 * The fields selected at `path` (as `selectedFieldNames`) when each is a plain field of its type, or null when
 * one has a resolver of its own: a computed field may read any property of its parent, so only whole rows
 * serve it, even where its name is also a column's.
 */
export function selectedPlainFieldNames(
  info: GraphQLResolveInfo,
  path: readonly string[] = [],
): ReadonlySet<string> | null {
  const names = selectedFieldNames(info, path);
  const type = typeAt(getNamedType(info.returnType), path);
  if (!isObjectType(type) && !isInterfaceType(type)) return names;
  const fields = type.getFields();
  for (const name of names) {
    if (fields[name]?.resolve !== undefined) return null;
  }
  return names;
}

/** The named type the fields at `path` below a field of `type` belong to. */
function typeAt(type: GraphQLNamedType, path: readonly string[]): GraphQLNamedType | undefined {
  let current: GraphQLNamedType = type;
  for (const name of path) {
    if (!isObjectType(current) && !isInterfaceType(current)) return undefined;
    const field = current.getFields()[name];
    if (field === undefined) return undefined;
    current = getNamedType(field.type);
  }
  return current;
}

function namesAt(info: GraphQLResolveInfo, path: readonly string[]): Set<string> {
  let level: readonly SelectionSetNode[] = info.fieldNodes.flatMap((node) =>
    node.selectionSet ? [node.selectionSet] : [],
  );
  for (const name of path) {
    level = fieldsOf(info, level)
      .filter((field) => field.name.value === name)
      .flatMap((field) => (field.selectionSet ? [field.selectionSet] : []));
  }
  return new Set(fieldsOf(info, level).map((field) => field.name.value));
}

function fieldsOf(info: GraphQLResolveInfo, selectionSets: readonly SelectionSetNode[]): FieldNode[] {
  const fields: FieldNode[] = [];
  const visitedFragments = new Set<string>();
  const pending = [...selectionSets];
  for (let set = pending.pop(); set !== undefined; set = pending.pop()) {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else {
        const name = selection.name.value;
        const fragment = info.fragments[name];
        if (fragment && !visitedFragments.has(name)) {
          visitedFragments.add(name);
          pending.push(fragment.selectionSet);
        }
      }
    }
  }
  return fields;
}
