// Run with `npm run build --silent && node --test dist/bench/format.test.js` (no benchmark runs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bytes, fixed, markdownTable, percent, textTable } from './format.js';
import { percentile } from './stats.js';

test('numbers: decimals, separators, a dash for what was not measured', () => {
  assert.equal(fixed(1234.567), '1,234.6');
  assert.equal(fixed(0.5, 2), '0.50');
  assert.equal(fixed(Number.NaN), '–');
  assert.equal(fixed(null), '–');
  assert.equal(percent(0.1234), '12.3 %');
  assert.equal(bytes(512), '512 B');
  assert.equal(bytes(1536), '1.5 KiB');
  assert.equal(bytes(3 * 1024 * 1024), '3.0 MiB');
});

test('text tables: first column left, the others right, a rule under the header', () => {
  const table = textTable(
    ['connections', 'req/s'],
    [
      ['1', '12.5'],
      ['20', '130.0'],
    ],
  );
  assert.equal(
    table,
    ['connections  req/s', '-----------  -----', '1             12.5', '20           130.0'].join('\n'),
  );
});

test('markdown tables: aligned like the text ones, pipes escaped', () => {
  assert.equal(
    markdownTable(['a', 'b'], [['x|y', '1']]),
    ['| a    |   b |', '| :--- | --: |', '| x\\|y |   1 |'].join('\n'),
  );
});

test('percentiles by nearest rank', () => {
  const values = Array.from({ length: 100 }, (_, index) => index + 1);
  assert.equal(percentile(values, 0.5), 50);
  assert.equal(percentile(values, 0.99), 99);
  assert.equal(percentile([7], 0.95), 7);
  assert.ok(Number.isNaN(percentile([], 0.5)));
});

test('text tables can left-align more columns (words rather than numbers)', () => {
  assert.equal(
    textTable(['target', 'verdict'], [['p99', 'met']], 2),
    ['target  verdict', '------  -------', 'p99     met'].join('\n'),
  );
});
