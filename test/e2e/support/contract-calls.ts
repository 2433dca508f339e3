import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { contractOperation } from '../../support/contract-operations.js';
import { postGraphql } from './server-process.js';

/** Sends the contract operation `name` as a dashboard does, expects no errors, and returns its data. */
export async function callOk<T>(
  url: string,
  key: string,
  name: string,
  variables: Record<string, unknown>,
): Promise<T> {
  const answer = await postGraphql<T>(url, key, contractOperation(name), variables);
  expect({ name, errors: answer.errors }).toEqual({ name, errors: undefined });
  return answer.data as T;
}

/** A new tenant made by an admin key: keys for it, and servers registered with its READ+WRITE key. */
export interface TestTenant {
  readonly id: string;
  /** READ + WRITE: registers and manages. */
  readonly writer: string;
  key(scopes: string[]): Promise<string>;
  /** Registers (and discovers) a Streamable HTTP server; returns its id. */
  register(name: string, endpointUrl: string): Promise<string>;
}

export async function createTestTenant(
  graphqlUrl: string,
  adminKey: string,
  prefix: string,
): Promise<TestTenant> {
  const { createTenant } = await callOk<{ createTenant: { id: string } }>(
    graphqlUrl,
    adminKey,
    'CreateTenant',
    {
      input: { name: `${prefix}-${randomUUID().slice(0, 8)}` },
    },
  );
  const key = async (scopes: string[]) =>
    (
      await callOk<{ createApiKey: { key: string } }>(graphqlUrl, adminKey, 'CreateApiKey', {
        input: { name: scopes.join('+'), tenantId: createTenant.id, scopes },
      })
    ).createApiKey.key;
  const writer = await key(['READ', 'WRITE']);
  const register = async (name: string, endpointUrl: string) =>
    (
      await callOk<{ registerServer: { id: string } }>(graphqlUrl, writer, 'RegisterServer', {
        input: { name, endpointUrl, transportType: 'STREAMABLE_HTTP' },
      })
    ).registerServer.id;
  return { id: createTenant.id, writer, key, register };
}
