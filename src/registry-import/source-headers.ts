import { type Keyring, type SealedValue, SealedValueError } from '../crypto/keyring.js';
import { ApiError, ErrorCode } from '../graphql/errors.js';

/**
 * Headers an upstream registry wants (a key), stored like server credentials: sealed for their own source row,
 * so a sealed value copied onto another row does not open.
 */
const contextOf = (sourceId: string) => `registry_sources.headers:${sourceId}`;

export function sealSourceHeaders(
  keyring: Keyring,
  sourceId: string,
  headers: Record<string, string> | null,
): SealedValue | null {
  return headers === null ? null : keyring.seal(JSON.stringify(headers), contextOf(sourceId));
}

/** The stored headers of a source; CREDENTIALS_UNAVAILABLE (the upstream is not contacted) when they do not open. */
export function openSourceHeaders(
  keyring: Keyring,
  sourceId: string,
  stored: unknown,
): Record<string, string> | null {
  if (stored == null) return null;
  try {
    const headers: unknown = JSON.parse(keyring.open(stored, contextOf(sourceId)));
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
      throw new SealedValueError('rejected', null, 'the sealed value is not a map of header names to values');
    }
    return headers as Record<string, string>;
  } catch (error) {
    if (!(error instanceof SealedValueError)) throw error;
    throw new ApiError(
      ErrorCode.CREDENTIALS_UNAVAILABLE,
      `The registry was not contacted: its stored headers cannot be opened (${error.message}). ` +
        'Import again with `headers`, or start the registry with the key they were sealed with.',
      { reason: error.reason.toUpperCase(), keyId: error.keyId },
    );
  }
}
