import { describe, expect, it } from 'vitest';
import { ServerStatus } from '../src/registry/registry.enums.js';
import { type Candidate, canonicalJson, orderCandidates } from '../src/routing/load-balancing.js';
import { LoadBalancingStrategy } from '../src/routing/routing.enums.js';
import {
  conditionsMatch,
  globMatches,
  parseConditions,
  requireConditions,
} from '../src/routing/rule-conditions.js';

const candidate = (serverId: string, changes: Partial<Candidate> = {}): Candidate => ({
  serverId,
  healthStatus: ServerStatus.HEALTHY,
  activeConnections: 0,
  avgResponseTime: null,
  weight: 1,
  ...changes,
});

const ids = (candidates: Candidate[]) => candidates.map((item) => item.serverId);
const order = (
  strategy: LoadBalancingStrategy,
  candidates: Candidate[],
  keys = { counterKey: 'k', hashKey: 'h' },
) => ids(orderCandidates(candidates, { strategy, ...keys }));

describe('load-balancing strategies', () => {
  it('LEAST_CONNECTIONS and FASTEST_RESPONSE order by their figure (unmeasured servers last)', () => {
    const servers = [
      candidate('a', { activeConnections: 5, avgResponseTime: null }),
      candidate('b', { activeConnections: 0, avgResponseTime: 80 }),
      candidate('c', { activeConnections: 2, avgResponseTime: 10 }),
    ];
    expect(order(LoadBalancingStrategy.LEAST_CONNECTIONS, servers)).toEqual(['b', 'c', 'a']);
    expect(order(LoadBalancingStrategy.FASTEST_RESPONSE, servers)).toEqual(['c', 'b', 'a']);
  });

  it('tries the member a virtual server tool names first, unprobed or not, but not when it is UNHEALTHY', () => {
    const servers = [
      candidate('a'),
      candidate('b', { healthStatus: ServerStatus.UNKNOWN }),
      candidate('c', { healthStatus: ServerStatus.UNHEALTHY }),
    ];
    const preferring = (preferredServerId: string) =>
      ids(
        orderCandidates(servers, {
          strategy: LoadBalancingStrategy.FASTEST_RESPONSE,
          counterKey: 'k',
          hashKey: 'h',
          preferredServerId,
        }),
      );
    expect(preferring('b')).toEqual(['b', 'a', 'c']);
    expect(preferring('a')).toEqual(['a', 'b', 'c']);
    expect(preferring('c')).toEqual(['a', 'b', 'c']);
  });

  it('puts usable servers before unprobed ones before unhealthy ones, whatever the strategy says', () => {
    const servers = [
      candidate('sick', { healthStatus: ServerStatus.UNHEALTHY, avgResponseTime: 1 }),
      candidate('new', { healthStatus: ServerStatus.UNKNOWN, avgResponseTime: 2 }),
      candidate('slow', { healthStatus: ServerStatus.DEGRADED, avgResponseTime: 300 }),
      candidate('fine', { avgResponseTime: 200 }),
    ];
    expect(order(LoadBalancingStrategy.FASTEST_RESPONSE, servers)).toEqual(['fine', 'slow', 'new', 'sick']);
  });

  it('ROUND_ROBIN turns one position per call and keeps a counter per rule', () => {
    const servers = [candidate('a'), candidate('b'), candidate('c')];
    const firsts = Array.from(
      { length: 6 },
      () => order(LoadBalancingStrategy.ROUND_ROBIN, servers, { counterKey: 'rule-1', hashKey: '' })[0],
    );
    expect(firsts).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(order(LoadBalancingStrategy.ROUND_ROBIN, servers, { counterKey: 'rule-2', hashKey: '' })).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('CONSISTENT_HASH sends equal calls to the same server, and moves only the calls of a server that leaves', () => {
    const servers = ['a', 'b', 'c', 'd', 'e'].map((id) => candidate(id));
    const keys = Array.from({ length: 40 }, (_, index) => `search\u0000${canonicalJson({ q: index })}`);
    const before = keys.map((hashKey) =>
      order(LoadBalancingStrategy.CONSISTENT_HASH, servers, { counterKey: '', hashKey }),
    );
    const again = keys.map((hashKey) =>
      order(LoadBalancingStrategy.CONSISTENT_HASH, servers, { counterKey: '', hashKey }),
    );
    expect(again).toEqual(before);
    expect(new Set(before.map((ordered) => ordered[0])).size).toBeGreaterThan(1);
    const withoutC = servers.filter((server) => server.serverId !== 'c');
    keys.forEach((hashKey, index) => {
      const after = order(LoadBalancingStrategy.CONSISTENT_HASH, withoutC, { counterKey: '', hashKey });
      // Fail-over order is the same ranking without c.
      expect(after).toEqual(before[index]?.filter((id) => id !== 'c'));
    });
  });

  it('WEIGHTED puts heavier targets first proportionally more often; RANDOM gives a permutation', () => {
    const servers = [candidate('light', { weight: 1 }), candidate('heavy', { weight: 1000 })];
    const heavyFirst = Array.from(
      { length: 200 },
      () => order(LoadBalancingStrategy.WEIGHTED, servers)[0],
    ).filter((id) => id === 'heavy').length;
    // P(light first) is 1/1001 per call: 190 of 200 fails with a probability below 1e-20.
    expect(heavyFirst).toBeGreaterThanOrEqual(190);
    const shuffled = order(LoadBalancingStrategy.RANDOM, [candidate('a'), candidate('b'), candidate('c')]);
    expect([...shuffled].sort()).toEqual(['a', 'b', 'c']);
  });

  it('canonical JSON does not depend on key order', () => {
    expect(canonicalJson({ b: [1, { y: 2, x: 1 }], a: 'z' })).toBe(
      canonicalJson({ a: 'z', b: [1, { x: 1, y: 2 }] }),
    );
  });
});

describe('rule conditions', () => {
  it('matches tool names by glob and arguments by value', () => {
    expect(globMatches('search*', 'search_docs')).toBe(true);
    expect(globMatches('search*', 'research')).toBe(false);
    expect(globMatches('get_?', 'get_a')).toBe(true);
    expect(globMatches('a.b', 'axb')).toBe(false);
    const conditions = parseConditions(
      requireConditions({
        toolName: ['search*', 'fetch'],
        arguments: { region: 'eu', opts: { deep: true } },
      }),
    );
    expect(conditionsMatch(conditions, 'fetch', { region: 'eu', opts: { deep: true }, q: 1 })).toBe(true);
    expect(conditionsMatch(conditions, 'fetch', { region: 'us', opts: { deep: true } })).toBe(false);
    expect(conditionsMatch(conditions, 'fetch', { region: 'eu' })).toBe(false);
    expect(conditionsMatch(conditions, 'translate', { region: 'eu', opts: { deep: true } })).toBe(false);
    expect(conditionsMatch(parseConditions({}), 'anything', {})).toBe(true);
  });

  it('rejects conditions of any other shape', () => {
    for (const bad of [
      null,
      [],
      'x',
      { tags: ['a'] },
      { toolName: '' },
      { toolName: [1] },
      { arguments: {} },
    ]) {
      expect(() => requireConditions(bad), JSON.stringify(bad)).toThrow(/conditions/);
    }
  });
});
