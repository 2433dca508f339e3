/** A missing measurement: NaN, or null once it has been through JSON. */
const DASH = '–';

const absent = (value: number | null | undefined): value is null | undefined =>
  value === null || value === undefined || !Number.isFinite(value);

/** A number with a fixed number of decimals and thousands separators. */
export function fixed(value: number | null | undefined, digits = 1): string {
  if (absent(value)) return DASH;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function whole(value: number | null | undefined): string {
  return fixed(value, 0);
}

export function percent(share: number | null | undefined, digits = 1): string {
  return absent(share) ? DASH : `${fixed(share * 100, digits)} %`;
}

export function bytes(value: number | null | undefined): string {
  if (absent(value)) return DASH;
  if (Math.abs(value) >= 1024 ** 3) return `${fixed(value / 1024 ** 3, 1)} GiB`;
  if (Math.abs(value) >= 1024 * 1024) return `${fixed(value / (1024 * 1024), 1)} MiB`;
  if (Math.abs(value) >= 1024) return `${fixed(value / 1024, 1)} KiB`;
  return `${whole(value)} B`;
}

/** A plain-text table: the first `leftColumns` columns left-aligned, the others right-aligned, two spaces apart. */
export function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    widths
      .map((width, column) => {
        const cell = cells[column] ?? '';
        return column < leftColumns ? cell.padEnd(width) : cell.padStart(width);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** A Markdown table aligned like textTable, padded the way the formatter (Biome) lays tables out. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string {
  const cells = [headers, ...rows].map((row) =>
    headers.map((_, column) => (row[column] ?? '').replace(/\|/g, '\\|')),
  );
  const widths = headers.map((_, column) => Math.max(3, ...cells.map((row) => (row[column] ?? '').length)));
  const line = (row: readonly string[]) =>
    `| ${row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return column < leftColumns ? cell.padEnd(width) : cell.padStart(width);
      })
      .join(' | ')} |`;
  const rule = widths.map((width, column) =>
    column < leftColumns ? `:${'-'.repeat(width - 1)}` : `${'-'.repeat(width - 1)}:`,
  );
  const [head = [], ...body] = cells;
  return [line(head), `| ${rule.join(' | ')} |`, ...body.map(line)].join('\n');
}
