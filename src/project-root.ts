import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** True when the application runs from its TypeScript sources (the dev loader, vitest), not from dist/. */
export const runningTypeScript = import.meta.url.endsWith('.ts');

/** The project's root directory, whether this file runs as TypeScript (src/) or compiled (dist/src/). */
export const projectRoot = path.resolve(here, runningTypeScript ? '..' : '../..');
