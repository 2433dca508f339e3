import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { Sql } from './database.js';

export interface MachineInfo {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly node: string;
  readonly postgres: string;
  /** 1-minute load average as the measured runs began: other work on the machine skews the numbers. */
  readonly loadAverageBeforeRuns: number;
}

export async function machineInfo(sql: Sql): Promise<MachineInfo> {
  const { version } = await sql.one<{ version: string }>('select version()');
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: version.split(' on ')[0] ?? version,
    loadAverageBeforeRuns: os.loadavg()[0] ?? 0,
  };
}

function cpuModel(): string {
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim();
    if (model) return model;
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}
