import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The project root, whether this runs compiled (dist/bench) or as TypeScript (bench).
const here = path.dirname(fileURLToPath(import.meta.url));
const runningTypeScript = import.meta.url.endsWith('.ts');

export const PROJECT_ROOT = path.resolve(here, runningTypeScript ? '..' : '../..');
export const BENCH_DIR = path.join(PROJECT_ROOT, 'bench');
export const DEFAULT_RESULTS_FILE = path.join(BENCH_DIR, 'results', 'latest.json');
export const README_FILE = path.join(BENCH_DIR, 'README.md');
/** Under .data (ignored by git): the seeded API keys and the CPU profile are not results to commit. */
export const WORK_DIR = path.join(PROJECT_ROOT, '.data', 'bench');
export const DEFAULT_KEYS_FILE = path.join(WORK_DIR, 'keys.json');
export const PROFILE_FILE = path.join(WORK_DIR, 'server-list.cpuprofile');
/** The compiled server the benchmark starts, as `npm start` would. */
export const SERVER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'src', 'main.js');
/** The hand-written Apollo Server + pg + DataLoader that ServerList is compared with (bench/reference-server.ts). */
export const REFERENCE_SERVER_ENTRY = path.join(PROJECT_ROOT, 'dist', 'bench', 'reference-server.js');

/** A path as it is shown to people: relative to the project root when inside it. */
export function shownPath(file: string): string {
  const relative = path.relative(PROJECT_ROOT, file);
  return relative.startsWith('..') ? file : relative;
}
