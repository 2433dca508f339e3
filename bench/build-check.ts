import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from './paths.js';

/**
 * tsc never deletes what it compiled before: a migration renamed or removed in migrations/ stays in
 * dist/migrations and the server would run it. Refuse such a build rather than measure it.
 */
export async function checkCompiledMigrations(): Promise<void> {
  const names = async (folder: string, extension: string) =>
    (await readdir(path.join(PROJECT_ROOT, folder)))
      .filter((file) => file.endsWith(extension) && !file.endsWith('.d.ts'))
      .map((file) => file.slice(0, -extension.length));
  const sources = new Set(await names('migrations', '.ts'));
  const stale = (await names('dist/migrations', '.js')).filter((name) => !sources.has(name));
  if (stale.length > 0) {
    throw new Error(
      `dist/migrations holds compiled migrations whose source is gone (${stale.join(', ')}). Delete dist ` +
        '(rm -rf dist) and run the bench again.',
    );
  }
}
