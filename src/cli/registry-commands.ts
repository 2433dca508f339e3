import cliProgress from 'cli-progress';
import type { AppConfig } from '../config.js';
import { openKeyring } from '../crypto/development-key.js';
import type { EntityManager } from '../db/orm.js';
import { CommandError } from '../entry-point.js';
import type { Logger } from '../logger.js';
import { type ImportProgress, importRegistryServers } from '../registry-import/registry-import.service.js';
import { CONSOLE_ACTOR, CONSOLE_VIEWER } from './console-operator.js';
import { printRecord } from './output.js';

export interface ImportOptions {
  readonly from?: string;
  readonly tenant?: string;
  readonly search?: string;
  readonly header?: string[];
  readonly discover: boolean;
  readonly full: boolean;
}

/**
 * Progress on stderr (stdout keeps the result, for scripts): a bar on a terminal, a line per phase elsewhere.
 * Reading pages has no known total, so the first bar counts entries as they arrive.
 */
function progressOn(stream: NodeJS.WriteStream): ImportProgress & { stop(succeeded: boolean): void } {
  const terminal = stream.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let fetched = 0;
  let toldFetched = false;
  const tellFetched = () => {
    if (!terminal && !toldFetched) stream.write(`registry import: read ${fetched} entries\n`);
    toldFetched = true;
  };
  const start = (phase: string, total: number) => {
    bar?.stop();
    if (!terminal) {
      stream.write(`registry import: ${phase} (${total})\n`);
      return;
    }
    bar = new cliProgress.SingleBar(
      { stream, format: `${phase.padEnd(12)} {bar} {value}/{total} | {duration_formatted}`, barsize: 24 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0);
  };
  return {
    fetched(entries) {
      if (bar === null && terminal) start('reading', Math.max(entries, 1));
      fetched = entries;
      bar?.setTotal(Math.max(entries, 1));
      bar?.update(entries);
    },
    discovering(total) {
      tellFetched();
      start('discovering', total);
    },
    discovered() {
      bar?.increment();
    },
    stop(succeeded) {
      if (succeeded) tellFetched();
      bar?.stop();
      bar = null;
    },
  };
}

/** `registry import --from URL`: as the `importRegistryServers` mutation (audited), with progress on stderr. */
export async function importFromConsole(
  em: EntityManager,
  config: AppConfig,
  log: Logger,
  options: ImportOptions,
  json: boolean,
): Promise<void> {
  if (options.from === undefined) throw new CommandError('registry import needs --from <registry base URL>');
  const headers = Object.fromEntries((options.header ?? []).map(parseHeader));
  const progress = progressOn(process.stderr);
  try {
    const report = await importRegistryServers(
      em,
      CONSOLE_ACTOR,
      CONSOLE_VIEWER,
      {
        url: options.from,
        tenantId: options.tenant ?? null,
        search: options.search ?? null,
        discover: options.discover,
        full: options.full,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
      },
      {
        circuit: config.circuit,
        discoveryTimeoutMs: config.health.timeoutMs,
        allowStdio: config.health.allowStdio,
        keyring: openKeyring(config, log),
        fetchTimeoutMs: config.registryImport.timeoutMs,
        progress,
      },
    );
    progress.stop(true);
    if (json) {
      printRecord({ ...report, since: report.since?.toISOString() ?? null }, true);
      return;
    }
    console.log(
      `created ${report.created}, updated ${report.updated}, unchanged ${report.unchanged}, ` +
        `marked upstream ${report.markedUpstream}, skipped ${report.skipped.length}`,
    );
    for (const note of report.skipped) console.log(`skipped\t${note.name}\t${note.reason}`);
    for (const note of report.notDiscovered) console.log(`not discovered\t${note.name}\t${note.reason}`);
  } finally {
    progress.stop(false);
  }
}

function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(':');
  if (colon <= 0) throw new CommandError(`--header must be "Name: value", got "${text}"`);
  return [text.slice(0, colon).trim(), text.slice(colon + 1).trim()];
}
