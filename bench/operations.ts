import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type DefinitionNode, type DocumentNode, Kind, parse, print, visit } from 'graphql';
import { PROJECT_ROOT } from './paths.js';

// The operations the benchmark sends are the ones dashboards send: read from schema/operations/*.graphql
// (the contract's documents, plus ServerListWithToolSchemas), never written out a second time here.

const OPERATIONS_DIR = path.join(PROJECT_ROOT, 'schema', 'operations');

const definitions: readonly DefinitionNode[] = readdirSync(OPERATIONS_DIR)
  .filter((file) => file.endsWith('.graphql'))
  .flatMap((file) => parse(readFileSync(path.join(OPERATIONS_DIR, file), 'utf8')).definitions);

function named(kind: Kind, name: string): DefinitionNode {
  const found = definitions.find(
    (definition) => definition.kind === kind && 'name' in definition && definition.name?.value === name,
  );
  if (!found) throw new Error(`schema/operations has no ${kind} named ${name}`);
  return found;
}

/** The operation named `name`, with the fragments it spreads (and theirs), as a request's query text. */
function operation(name: string): string {
  const included = new Map<string, DefinitionNode>();
  const pending: DefinitionNode[] = [named(Kind.OPERATION_DEFINITION, name)];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    visit(next, {
      FragmentSpread(spread) {
        const fragment = spread.name.value;
        if (included.has(fragment)) return;
        const definition = named(Kind.FRAGMENT_DEFINITION, fragment);
        included.set(fragment, definition);
        pending.push(definition);
      },
    });
  }
  const document: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [named(Kind.OPERATION_DEFINITION, name), ...included.values()],
  };
  return print(document);
}

export const SERVER_LIST = operation('ServerList');
export const SERVER_LIST_WITH_TOOL_SCHEMAS = operation('ServerListWithToolSchemas');
export const DISCOVER_SERVERS = operation('DiscoverServers');
export const SEARCH_TOOLS = operation('SearchTools');
export const DASHBOARD_OVERVIEW = operation('DashboardOverview');
export const REGISTER_SERVER = operation('RegisterServer');
export const RESET_CIRCUIT_BREAKER = operation('ResetCircuitBreaker');
export const CIRCUIT_BREAKER_CHANGED = operation('CircuitBreakerChanged');
