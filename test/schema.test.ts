import { readFile } from 'node:fs/promises';
import { createPubSub } from '@graphql-yoga/subscription';
import { isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildAppSchema, printAppSchema } from '../src/schema.js';

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

  it('reads plain fields without a resolver: only field resolvers run code (simpleResolvers on every type)', async () => {
    // type-graphql otherwise wraps every plain field in a resolver of its own: a ServerList page of 100 servers
    // with 1,000 tools made some 9,000 such calls per request.
    const schema = await buildAppSchema(createPubSub());
    const plain = (typeName: string) => {
      const type = schema.getType(typeName);
      if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
      return Object.values(type.getFields())
        .filter((field) => field.resolve === undefined)
        .map((field) => field.name);
    };
    expect(plain('ServerTool')).toEqual(expect.arrayContaining(['id', 'name', 'toolSchema', 'createdAt']));
    expect(plain('MCPServer')).toEqual(expect.arrayContaining(['id', 'name', 'healthStatus']));
    expect(plain('MCPServer')).not.toContain('tools');
    const withResolvers = Object.values(schema.getTypeMap())
      .filter(isObjectType)
      .filter(
        (type) => !type.name.startsWith('_') && !['Query', 'Mutation', 'Subscription'].includes(type.name),
      )
      .flatMap((type) =>
        Object.values(type.getFields())
          .filter((field) => field.resolve !== undefined)
          .map((field) => `${type.name}.${field.name}`),
      );
    // Field resolvers of the features, each a method on a @Resolver class; a plain field would show up here.
    expect(withResolvers.every((name) => !name.endsWith('.id') && !name.endsWith('.createdAt'))).toBe(true);
  });
});
