import 'reflect-metadata';
import { writeFile } from 'node:fs/promises';
import { printAppSchema } from './schema.js';

/** `npm run schema:print`: writes the subgraph SDL that clients and codegen use. */
export const SCHEMA_FILE = new URL('../schema/schema.graphql', import.meta.url);

await writeFile(SCHEMA_FILE, await printAppSchema());
console.log(`wrote ${SCHEMA_FILE.pathname}`);
