import { ServerStatus } from '../registry/registry.enums.js';
import { type CatalogTool, GENERIC_NOUNS, GENERIC_VERBS } from './catalog.js';
import type { PlannedServer } from './fleet.js';
import type { Random } from './random.js';
import type { ToolRow } from './tables.js';
import { GENERIC_TOOLS, toolAnnotations, toolInputSchema } from './tool-schemas.js';

/** The most tools a server can be given: its category's plus every generic `verb_noun` tool. */
export const MAX_TOOLS_PER_SERVER = GENERIC_VERBS.length * GENERIC_NOUNS.length;

/**
 * Each server's tools: the tools of its kind that it happens to offer (each by its chance), topped up with
 * generic `verb_noun` tools to `perServer`. Names are unique per server, as the registry requires.
 */
export function* toolRows(
  random: Random,
  servers: readonly PlannedServer[],
  perServer: number,
): Generator<ToolRow> {
  for (const server of servers) {
    for (const tool of chooseTools(random, server, perServer)) {
      yield toolRow(random, server, tool);
    }
  }
}

interface ChosenTool {
  readonly name: string;
  readonly description: string;
  readonly params: readonly string[];
  readonly noun?: string;
}

function chooseTools(random: Random, server: PlannedServer, perServer: number): ChosenTool[] {
  const offered: CatalogTool[] = server.category.tools.filter((tool) => random.chance(tool.chance));
  const chosen: ChosenTool[] = random.sample(offered, perServer);
  const names = new Set(chosen.map((tool) => tool.name));
  while (chosen.length < perServer) {
    const verb = random.pick(GENERIC_VERBS);
    const noun = random.pick(GENERIC_NOUNS);
    const name = `${verb}_${noun}`;
    if (names.has(name)) continue;
    names.add(name);
    const generic = GENERIC_TOOLS[verb];
    chosen.push({ name, description: generic.describe(noun), params: generic.params, noun });
  }
  return chosen;
}

function toolRow(random: Random, server: PlannedServer, tool: ChosenTool): ToolRow {
  const { row } = server;
  const errorRate =
    row.healthStatus === ServerStatus.HEALTHY
      ? random.between(0, 0.03)
      : row.healthStatus === ServerStatus.UNHEALTHY
        ? random.between(0.2, 0.6)
        : random.between(0.02, 0.15);
  const used = row.healthStatus !== ServerStatus.UNKNOWN && random.chance(0.85);
  const totalCalls = used ? Math.round(random.logNormal(300, 1.5)) : 0;
  const errorCount = Math.round(totalCalls * errorRate);
  return {
    id: random.uuid(),
    serverId: row.id,
    name: tool.name,
    description: tool.description,
    toolSchema: toolInputSchema(tool.params, tool.noun),
    annotations: random.chance(0.8) ? toolAnnotations(tool.name, server.category.openWorld) : null,
    totalCalls,
    successCount: totalCalls - errorCount,
    errorCount,
    avgExecutionTime:
      totalCalls === 0 ? null : Number(random.logNormal((row.avgResponseTime ?? 150) * 1.5, 0.5).toFixed(2)),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
