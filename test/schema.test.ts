import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printAppSchema } from '../src/schema.js';

describe('schema/schema.graphql', () => {
  it('is exactly what the code prints (run `npm run schema:print` after changing the API)', async () => {
    const committed = await readFile(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(await printAppSchema());
  });

  it('is a federation 2 subgraph whose entities carry @key', async () => {
    const sdl = await printAppSchema();
    expect(sdl).toContain('@link(url: "https://specs.apollo.dev/federation/v2.7"');
    expect(sdl).toMatch(/type Tenant\s+@key\(fields: "id"\)/);
    expect(sdl).toMatch(/type MCPServer\s+@key\(fields: "id"\)/);
  });
});
