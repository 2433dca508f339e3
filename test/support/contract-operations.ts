import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  parse,
  print,
  visit,
} from 'graphql';

export const OPERATIONS_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../schema/operations',
);

export interface ContractOperation {
  readonly name: string;
  /** The operation and the fragments it uses, printed as one document. */
  readonly query: string;
  readonly definition: OperationDefinitionNode;
}

/** Every operation of the contract (schema/operations/*.graphql), each with the fragments it uses. */
export function contractOperations(): ContractOperation[] {
  const operations: ContractOperation[] = [];
  for (const file of readdirSync(OPERATIONS_DIR).filter((name) => name.endsWith('.graphql'))) {
    const document = parse(readFileSync(path.join(OPERATIONS_DIR, file), 'utf8'));
    const fragments = new Map(
      document.definitions
        .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((fragment) => [fragment.name.value, fragment]),
    );
    for (const operation of document.definitions) {
      if (operation.kind !== Kind.OPERATION_DEFINITION) continue;
      const used = new Map<string, FragmentDefinitionNode>();
      const collect = (node: DefinitionNode) =>
        visit(node, {
          FragmentSpread(spread) {
            const fragment = fragments.get(spread.name.value);
            if (fragment && !used.has(fragment.name.value)) {
              used.set(fragment.name.value, fragment);
              collect(fragment);
            }
          },
        });
      collect(operation);
      const single: DocumentNode = { kind: Kind.DOCUMENT, definitions: [operation, ...used.values()] };
      operations.push({ name: operation.name?.value ?? file, query: print(single), definition: operation });
    }
  }
  return operations;
}

let byName: Map<string, string> | undefined;

/** The printed document of the contract operation called `name`; a name the contract lacks fails the test. */
export function contractOperation(name: string): string {
  byName ??= new Map(contractOperations().map((operation) => [operation.name, operation.query]));
  const query = byName.get(name);
  if (query === undefined) throw new Error(`no contract operation named ${name}`);
  return query;
}
