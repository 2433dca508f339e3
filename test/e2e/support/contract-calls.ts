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
