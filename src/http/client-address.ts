import type { IncomingMessage } from 'node:http';
import { formatIpAddress, type IpRange, matchesAny, parseIpAddress } from '../net/ip-range.js';

/**
 * The address of the client behind a request. `X-Forwarded-For` is believed only when the direct peer is a
 * trusted proxy, and then only as far as it was written by trusted proxies: walking the list from the right
 * (the hop nearest to us), the first address that is not a trusted proxy is the client. Anyone can put
 * anything at the left of the header, so nothing is taken from there while an untrusted hop comes first.
 *
 * Returns the canonical spelling (IPv4-mapped IPv6 as IPv4), or `null` when no usable address is known: a
 * key limited to some addresses is then refused, since it cannot be checked.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trustedProxies: readonly IpRange[],
): string | null {
  const peerBytes = peer === undefined ? null : parseIpAddress(peer);
  if (peerBytes === null) return null;
  let client = peerBytes;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '')).split(',');
  for (let i = hops.length - 1; i >= 0 && matchesAny(client, trustedProxies); i--) {
    const hop = (hops[i] ?? '').trim();
    if (hop === '') continue;
    const bytes = parseIpAddress(withoutPort(hop));
    // A hop no proxy of ours would write: the address stays unknown rather than trusting the rest.
    if (bytes === null) return null;
    client = bytes;
  }
  return formatIpAddress(client);
}

export function clientAddressOf(request: IncomingMessage, trustedProxies: readonly IpRange[]): string | null {
  return clientAddress(request.socket.remoteAddress, request.headers['x-forwarded-for'], trustedProxies);
}

/** Some proxies write `1.2.3.4:5678` or `[2001:db8::1]:443`. */
function withoutPort(hop: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hop);
  if (bracketed?.[1] !== undefined) return bracketed[1];
  const ipv4WithPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return ipv4WithPort?.[1] ?? hop;
}
