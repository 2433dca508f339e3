import { isIP } from 'node:net';
import { badUserInput } from '../graphql/errors.js';

const MAX_LIST_ENTRIES = 100;

/**
 * A restriction list (allowed servers, IP whitelist): absent means "no restriction", so an empty list is
 * refused rather than guessed at: one reader could take it for "nothing allowed", another for "anything".
 */
export function optionalRestriction(
  values: readonly string[] | null | undefined,
  field: string,
  what: string,
): string[] | null {
  if (values == null) return null;
  if (values.length === 0) {
    throw badUserInput(`"${field}" must list at least one ${what}; omit it for no restriction.`, field);
  }
  const unique = [...new Set(values.map((value) => value.trim()))];
  if (unique.length > MAX_LIST_ENTRIES) {
    throw badUserInput(`"${field}" may list at most ${MAX_LIST_ENTRIES} entries.`, field);
  }
  return unique;
}

/** An IPv4/IPv6 address, or a CIDR range with a prefix length that fits the address family. */
export function requireIpRange(entry: string): string {
  const [address = '', prefix, ...extra] = entry.toLowerCase().split('/');
  const version = isIP(address);
  // Zone ids (`fe80::1%eth0`) name a local interface, which a client address never carries.
  const valid =
    version !== 0 &&
    !address.includes('%') &&
    extra.length === 0 &&
    (prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128)));
  if (!valid) {
    throw badUserInput(
      `"${entry}" in "ipWhitelist" is not an IPv4/IPv6 address or CIDR range such as 10.0.0.0/8.`,
      'ipWhitelist',
    );
  }
  return prefix === undefined ? address : `${address}/${Number(prefix)}`;
}

export function optionalRateLimit(value: number | null | undefined, field: string): number | null {
  if (value == null) return null;
  if (!Number.isInteger(value) || value < 1) {
    throw badUserInput(`"${field}" must be a positive number of requests; omit it for no limit.`, field);
  }
  return value;
}

export function optionalExpiry(value: Date | null | undefined, now: Date): Date | null {
  if (value == null) return null;
  if (value.getTime() <= now.getTime()) throw badUserInput('"expiresAt" must be in the future.', 'expiresAt');
  return value;
}
