import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import { formatIpAddress, type IpRange, matchesAny, parseIpAddress } from '../net/ip-range.js';

/**
 * The address of the client behind a request, as proxy-addr (Express's `trust proxy`) finds it:
 * `X-Forwarded-For` is believed only when the direct peer is a trusted proxy, and then only as far as it was
 * written by trusted proxies: walking the list from the right (the hop nearest to us), the first address that
 * is not a trusted proxy is the client. Anyone can put anything at the left of the header, so nothing is taken
 * from there while an untrusted hop comes first.
 *
 * Returns the canonical spelling (IPv4-mapped IPv6 as IPv4), or `null` when no usable address is known: a
 * key limited to some addresses is then refused, since it cannot be checked. Every entry point (HTTP routes,
 * the graphql-ws upgrade, `/mcp`) asks this, through app.ts's `clientIpOf`; Express's own `req.ip` is not used.
 */
export function clientAddressOf(request: IncomingMessage, trustedProxies: readonly IpRange[]): string | null {
  if (request.socket.remoteAddress === undefined) return null;
  const client = proxyAddr(request, (address) => matchesAny(withoutPort(address), trustedProxies));
  return canonicalAddress(client);
}

/** Spellings seen lately and their canonical form: parsing and formatting cost more than all of admission. */
const canonicalForms = new Map<string, string | null>();
const MAX_CANONICAL_FORMS = 10_000;

/** A hop no proxy of ours would write (not an address) leaves the client unknown rather than trusted. */
function canonicalAddress(hop: string): string | null {
  let canonical = canonicalForms.get(hop);
  if (canonical === undefined) {
    const bytes = parseIpAddress(withoutPort(hop));
    canonical = bytes === null ? null : formatIpAddress(bytes);
    if (canonicalForms.size >= MAX_CANONICAL_FORMS) canonicalForms.clear();
    canonicalForms.set(hop, canonical);
  }
  return canonical;
}

/** The same for a peer address and `X-Forwarded-For` value(s) given apart. */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly IpRange[],
): string | null {
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  // proxy-addr reads nothing of a request but these two fields.
  const request = {
    socket: { remoteAddress: peer },
    headers: header === undefined ? {} : { 'x-forwarded-for': header },
  } as unknown as IncomingMessage;
  return clientAddressOf(request, trustedProxies);
}

/** Some proxies write `1.2.3.4:5678` or `[2001:db8::1]:443`; proxy-addr takes hops as written. */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const ipv4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return ipv4WithPort?.[1] ?? hop;
}
