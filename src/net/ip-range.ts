import { isIP } from 'node:net';

/**
 * An address or CIDR range. Every address is held as 16 bytes of IPv6, IPv4 as its IPv4-mapped form
 * (`::ffff:a.b.c.d`, an IPv4 prefix of n bits becoming 96 + n): one comparison covers both families, and a
 * client that reaches a dual-stack socket as `::ffff:1.2.3.4` matches the IPv4 rules written for it.
 */
export interface IpRange {
  readonly bytes: Uint8Array;
  /** Leading bits that must match, 0 to 128. */
  readonly prefixLength: number;
}

const IPV4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/** The 16 bytes of an IPv4 or IPv6 address; `null` for anything else (zone ids and ports included). */
export function parseIpAddress(text: string): Uint8Array | null {
  const address = text.trim();
  const version = isIP(address);
  if (version === 4) return Uint8Array.from([...IPV4_MAPPED_PREFIX, ...ipv4Bytes(address)]);
  if (version === 6 && !address.includes('%')) return ipv6Bytes(address);
  return null;
}

/** `10.0.0.0/8`, `2001:db8::/32` or a single address (all bits); `null` when malformed. */
export function parseIpRange(text: string): IpRange | null {
  const [address = '', prefix, ...extra] = text.trim().split('/');
  const bytes = parseIpAddress(address);
  if (bytes === null || extra.length > 0) return null;
  const ipv4 = isIP(address.trim()) === 4;
  if (prefix === undefined) return { bytes, prefixLength: 128 };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > (ipv4 ? 32 : 128)) return null;
  return { bytes, prefixLength: Number(prefix) + (ipv4 ? 96 : 0) };
}

export function inRange(address: Uint8Array, range: IpRange): boolean {
  let bits = range.prefixLength;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((address[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** Whether `address` falls in one of `ranges`. Malformed addresses match nothing. */
export function matchesAny(address: string | Uint8Array | null, ranges: readonly IpRange[]): boolean {
  const bytes = typeof address === 'string' ? parseIpAddress(address) : address;
  return bytes !== null && ranges.some((range) => inRange(bytes, range));
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
  if (IPV4_MAPPED_PREFIX.every((byte, i) => bytes[i] === byte)) return [...bytes.subarray(12)].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) [bestStart, bestLength] = [start, end - start];
    start = end === start ? start + 1 : end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

function ipv4Bytes(address: string): number[] {
  return address.split('.').map(Number);
}

/** Expands `::` and an embedded IPv4 tail; the text is already known to be a valid IPv6 address. */
function ipv6Bytes(address: string): Uint8Array {
  const lower = address.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(lower)?.[1];
  const hexPart = tail === undefined ? lower : lower.slice(0, -tail.length).replace(/:$/, ':0:0');
  const [head = '', rest] = hexPart.split('::');
  const toGroups = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const left = toGroups(head);
  const right = rest === undefined ? [] : toGroups(rest);
  const groups = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((group, i) => {
    bytes[2 * i] = group >> 8;
    bytes[2 * i + 1] = group & 0xff;
  });
  if (tail !== undefined) bytes.set(ipv4Bytes(tail), 12);
  return bytes;
}
