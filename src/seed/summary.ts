import { formatCount } from './progress.js';
import type { SeedKeys, SeedReport } from './seed-database.js';

/** The end-of-run summary: time and rows per phase, rows per table. */
export function formatSummary(report: SeedReport): string {
  const lines = [`Seeded in ${report.seconds.toFixed(1)} s (seed ${report.seed}).`, ''];
  lines.push(row('phase', 'rows', 'seconds', 'rows/s'));
  for (const phase of report.phases) {
    const rate =
      phase.seconds > 0 && phase.rows > 0 ? formatCount(Math.round(phase.rows / phase.seconds)) : '';
    lines.push(row(phase.name, formatCount(phase.rows), phase.seconds.toFixed(2), rate));
  }
  lines.push('', row('table', 'rows'));
  for (const [table, rows] of Object.entries(report.rows)) lines.push(row(table, formatCount(rows)));
  return lines.join('\n');
}

function row(name: string, ...values: string[]): string {
  return `  ${name.padEnd(20)}${values.map((value) => value.padStart(12)).join('')}`.trimEnd();
}

/** The keys for people: one line each. */
export function formatKeys(keys: SeedKeys): string {
  const lines = ['API keys (shown once; the database stores only their hashes):'];
  lines.push(`  ${'platform admin (all scopes)'.padEnd(44)} ${keys.admin.key}`);
  for (const tenant of keys.tenants) {
    const label = `${tenant.tenantName} (${formatCount(tenant.servers)} servers, READ+WRITE)`;
    lines.push(`  ${label.padEnd(44)} ${tenant.key}`);
  }
  return lines.join('\n');
}

/** The keys for programs (`--keys-out`), e.g. a benchmark picking the tenant with the most servers. */
export function keysDocument(report: SeedReport, now: Date): string {
  return `${JSON.stringify({ seededAt: now.toISOString(), seed: report.seed, ...report.keys }, null, 2)}\n`;
}
