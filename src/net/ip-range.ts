import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * An address or CIDR range. Every address is held as IPv6, IPv4 as its IPv4-mapped form (`::ffff:a.b.c.d`,
 * an IPv4 prefix of n bits becoming 96 + n): one comparison covers both families, and a client that reaches a
 * dual-stack socket as `::ffff:1.2.3.4` matches the IPv4 rules written for it.
 */
export interface IpRange {
  readonly network: ipaddr.IPv6;
  /** Leading bits that must match, 0 to 128. */
  readonly prefixLength: number;
}

/**
 * An IPv4 or IPv6 address as IPv6; `null` for anything else (zone ids and ports included). node:net decides
 * what is an address: ipaddr.js alone would also read `010.0.0.1` (as octal), `10.1` or `0xa.0.0.1`.
 */
function parseAddress(text: string): ipaddr.IPv6 | null {
  const address = text.trim();
  const version = isIP(address);
  if (version === 4) return ipaddr.IPv4.parse(address).toIPv4MappedAddress();
  if (version === 6 && !address.includes('%')) return ipaddr.IPv6.parse(withHexTail(address));
  return null;
}

/**
 * `::ffff:10.1.2.3` as `::ffff:a01:203`. ipaddr.js reads the deprecated IPv4-compatible `::10.1.2.3` as the
 * IPv4-mapped `::ffff:10.1.2.3`, which would let it pass IPv4 rules; in hex it is read as the address it is.
 */
function withHexTail(ipv6: string): string {
  return ipv6.replace(/\d+\.\d+\.\d+\.\d+$/, (tail) => {
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(tail).octets;
    return `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  });
}

/** The 16 bytes of an IPv4 or IPv6 address; `null` for anything else (zone ids and ports included). */
export function parseIpAddress(text: string): Uint8Array | null {
  const address = parseAddress(text);
  return address === null ? null : Uint8Array.from(address.toByteArray());
}

/** `10.0.0.0/8`, `2001:db8::/32` or a single address (all bits); `null` when malformed. */
export function parseIpRange(text: string): IpRange | null {
  const [address = '', prefix, ...extra] = text.trim().split('/');
  const network = parseAddress(address);
  if (network === null || extra.length > 0) return null;
  if (prefix === undefined) return { network, prefixLength: 128 };
  const ipv4 = isIP(address.trim()) === 4;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (ipv4 ? 32 : 128)) return null;
  return { network, prefixLength: Number(prefix) + (ipv4 ? 96 : 0) };
}

/** Whether `address` falls in one of `ranges`. Malformed addresses match nothing. */
export function matchesAny(address: string | null, ranges: readonly IpRange[]): boolean {
  const parsed = address === null ? null : parseAddress(address);
  return parsed !== null && ranges.some((range) => parsed.match(range.network, range.prefixLength));
}

/** Parses a stored allow-list; entries that do not parse are left out (they can allow nothing). */
export function parseIpRanges(entries: readonly string[]): IpRange[] {
  return entries.map(parseIpRange).filter((range): range is IpRange => range !== null);
}

/**
 * The canonical text of an address: IPv4 (mapped ones included) as dotted quads, IPv6 in RFC 5952 form
 * (lowercase, longest run of zero groups compressed). Audit rows and allow-list checks see one spelling.
 */
export function formatIpAddress(bytes: Uint8Array): string {
  const address = ipaddr.fromByteArray([...bytes]);
  if (address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress()) {
    return address.toIPv4Address().toString();
  }
  return address.toString();
}
