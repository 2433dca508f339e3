import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PREFIX = 'mcp_';
/** Characters of the key shown in listings so people can tell their keys apart. */
const DISPLAY_PREFIX_LENGTH = 12;

export interface GeneratedApiKey {
  /** The plaintext key: shown to its owner once, never stored. */
  readonly key: string;
  readonly prefix: string;
  readonly hash: string;
}

/** A new random key: `mcp_` and 256 bits of randomness in base64url. */
export function generateApiKey(): GeneratedApiKey {
  const key = `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: displayPrefix(key), hash: hashApiKey(key) };
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH);
}

/** Keys are stored only as their SHA-256: they are random, so a slow password hash adds nothing. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares two hex SHA-256 digests in constant time. */
export function sameHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
