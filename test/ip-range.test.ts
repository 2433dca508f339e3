import { describe, expect, it } from 'vitest';
import { AuthFailureThrottle } from '../src/auth/auth-failure-audit.js';
import { clientAddress } from '../src/http/client-address.js';
import {
  formatIpAddress,
  matchesAny,
  parseIpAddress,
  parseIpRange,
  parseIpRanges,
} from '../src/net/ip-range.js';

const matches = (address: string, range: string) => matchesAny(address, parseIpRanges([range]));

describe('CIDR matching', () => {
  it.each([
    // IPv4
    ['10.1.2.3', '10.0.0.0/8', true],
    ['11.1.2.3', '10.0.0.0/8', false],
    ['192.168.1.255', '192.168.1.0/24', true],
    ['192.168.2.0', '192.168.1.0/24', false],
    ['172.16.0.1', '172.16.0.0/12', true],
    ['172.32.0.1', '172.16.0.0/12', false],
    ['10.0.0.1', '10.0.0.0/31', true],
    ['10.0.0.2', '10.0.0.0/31', false],
    ['203.0.113.9', '203.0.113.9/32', true],
    ['203.0.113.10', '203.0.113.9/32', false],
    ['203.0.113.9', '203.0.113.9', true],
    ['203.0.113.9', '203.0.113.99', false],
    // Host bits set in the rule are ignored, as in most CIDR tools.
    ['10.9.9.9', '10.1.2.3/8', true],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['255.255.255.255', '0.0.0.0/0', true],
    // IPv6
    ['2001:db8::1', '2001:db8::/32', true],
    ['2001:db8:ffff:ffff::1', '2001:db8::/32', true],
    ['2001:db9::1', '2001:db8::/32', false],
    ['2001:DB8::1', '2001:db8::/32', true],
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1/128', true],
    ['2001:db8::2', '2001:db8::1/128', false],
    ['::1', '::1', true],
    ['::2', '::1', false],
    ['fe80::1', 'fe80::/10', true],
    ['fec0::1', 'fe80::/10', false],
    ['2001:db8::1', '::/0', true],
    ['2001:db8::8:800:200c:417a', '2001:db8:0:0:8:800:200c:417a', true],
    // IPv4-mapped IPv6 meets IPv4 rules, both ways
    ['::ffff:10.1.2.3', '10.0.0.0/8', true],
    ['::ffff:11.1.2.3', '10.0.0.0/8', false],
    ['::ffff:a01:203', '10.0.0.0/8', true],
    ['::FFFF:192.0.2.1', '192.0.2.1', true],
    ['10.1.2.3', '::ffff:10.0.0.0/104', true],
    ['10.1.2.3', '::ffff:0:0/96', true],
    ['0.0.0.0', '0.0.0.0/0', true],
    // IPv4 rules never match other IPv6 addresses, and 0.0.0.0/0 means every IPv4 address only
    ['2001:db8::1', '0.0.0.0/0', false],
    ['::10.1.2.3', '10.0.0.0/8', false],
    ['64:ff9b::a01:203', '10.0.0.0/8', false],
  ])('%s in %s: %s', (address, range, expected) => {
    expect(matches(address, range)).toBe(expected);
  });

  it.each([
    '',
    '10.0.0.0/',
    '10.0.0.0/33',
    '10.0.0.0/-1',
    '10.0.0.0/8/8',
    '10.0.0.0/ 8',
    '10.0.0.0/1e1',
    '10.0.0',
    '256.0.0.1',
    '010.0.0.1',
    '::1/129',
    '::1/0128',
    'fe80::1%eth0',
    '2001:db8:::1',
    '1:2:3:4:5:6:7:8:9',
    'host.example.test',
    '10.0.0.1:80',
  ])('refuses the malformed range %j', (range) => {
    expect(parseIpRange(range)).toBeNull();
  });

  it('matches nothing for malformed client addresses, and leaves malformed stored entries out', () => {
    const ranges = parseIpRanges(['0.0.0.0/0', '::/0', 'garbage']);
    expect(ranges).toHaveLength(2);
    for (const address of ['', 'garbage', '1.2.3', '10.0.0.1:80', 'fe80::1%eth0']) {
      expect(matchesAny(address, ranges)).toBe(false);
    }
    expect(matchesAny(null, ranges)).toBe(false);
    expect(matchesAny('10.0.0.1', [])).toBe(false);
  });

  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['::ffff:a01:203', '10.1.2.3'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
    ['2001:db8:0:1:2:3:4:5', '2001:db8:0:1:2:3:4:5'],
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
  ])('writes %s as %s', (input, canonical) => {
    const bytes = parseIpAddress(input);
    expect(bytes).not.toBeNull();
    expect(formatIpAddress(bytes ?? new Uint8Array(16))).toBe(canonical);
  });
});

describe('clientAddress', () => {
  const trusted = parseIpRanges(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);

  it.each([
    ['the peer, without a forwarded header', '203.0.113.5', undefined, '203.0.113.5'],
    ['the peer, canonical', '::ffff:203.0.113.5', undefined, '203.0.113.5'],
    ['the peer when it is not a trusted proxy', '203.0.113.5', '198.51.100.1', '203.0.113.5'],
    ['the forwarded address behind a trusted proxy', '127.0.0.1', '198.51.100.1', '198.51.100.1'],
    ['the right-most untrusted hop', '127.0.0.1', '192.0.2.66, 198.51.100.1, 10.0.0.2', '198.51.100.1'],
    [
      'the right-most untrusted hop across headers',
      '127.0.0.1',
      ['192.0.2.66', '198.51.100.1'],
      '198.51.100.1',
    ],
    ['the left-most hop when every hop is trusted', '127.0.0.1', '10.0.0.3, 10.0.0.2', '10.0.0.3'],
    ['the trusted peer when the header is empty', '127.0.0.1', '', '127.0.0.1'],
    ['a hop with a port', '127.0.0.1', '198.51.100.1:4711', '198.51.100.1'],
    ['a bracketed IPv6 hop with a port', '127.0.0.1', '[2001:db8::1]:443', '2001:db8::1'],
    ['an IPv6 hop behind an IPv6 proxy', 'fd00::1', '2001:DB8::1', '2001:db8::1'],
    ['a mapped peer that is a trusted proxy', '::ffff:127.0.0.1', '198.51.100.1', '198.51.100.1'],
  ])('is %s', (_label, peer, forwardedFor, expected) => {
    expect(clientAddress(peer, forwardedFor, trusted)).toBe(expected);
  });

  it('is unknown when a trusted proxy passes on something that is not an address, or there is no peer', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1, not-an-ip', trusted)).toBeNull();
    expect(clientAddress(undefined, '198.51.100.1', trusted)).toBeNull();
  });

  it('believes nothing forwarded when no proxy is trusted', () => {
    expect(clientAddress('127.0.0.1', '198.51.100.1', [])).toBe('127.0.0.1');
  });
});

describe('AuthFailureThrottle', () => {
  const limits = { windowMs: 60_000, perAddress: 3, total: 5 };

  it('admits one failure per prefix and address per window', () => {
    const throttle = new AuthFailureThrottle(limits);
    expect(throttle.admit('mcp_aaaaaaaa', '198.51.100.1', 0)).toBe(true);
    expect(throttle.admit('mcp_aaaaaaaa', '198.51.100.1', 59_999)).toBe(false);
    expect(throttle.admit('mcp_aaaaaaaa', '198.51.100.2', 1)).toBe(true);
    expect(throttle.admit(null, '198.51.100.1', 2)).toBe(true);
    expect(throttle.admit(null, '198.51.100.1', 3)).toBe(false);
    expect(throttle.admit('mcp_aaaaaaaa', '198.51.100.1', 60_000)).toBe(true);
  });

  it('caps distinct prefixes per address and rows in all', () => {
    const throttle = new AuthFailureThrottle(limits);
    const admitted = (address: string) =>
      Array.from({ length: 10 }, (_, i) => throttle.admit(`mcp_${i}`, address, 0)).filter(Boolean).length;
    expect(admitted('198.51.100.1')).toBe(3);
    expect(admitted('198.51.100.2')).toBe(2);
    expect(admitted('198.51.100.3')).toBe(0);
    expect(throttle.admit('mcp_x', '198.51.100.3', 60_000)).toBe(true);
  });
});
