import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded database and in-process pub/sub on port 4000', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: '0.0.0.0',
      databaseUrl: undefined,
      redisUrl: undefined,
      adminApiKey: undefined,
      logLevel: 'info',
      migrateOnStart: true,
      dataDir: path.resolve('.data'),
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u:p@db:5432/registry',
      REDIS_URL: 'redis://cache:6379',
      ADMIN_API_KEY: 'a-long-enough-admin-key-1234567890',
      LOG_LEVEL: 'DEBUG',
      MIGRATE_ON_START: 'false',
      DATA_DIR: '/var/lib/registry',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: 'postgres://u:p@db:5432/registry',
      redisUrl: 'redis://cache:6379',
      logLevel: 'debug',
      migrateOnStart: false,
      dataDir: '/var/lib/registry',
    });
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://localhost/db'],
    ['REDIS_URL', 'http://localhost:6379'],
    ['LOG_LEVEL', 'loud'],
    ['MIGRATE_ON_START', 'maybe'],
    ['ADMIN_API_KEY', 'short'],
    ['GRAPHQL_INTROSPECTION', 'sometimes'],
    ['TRUSTED_PROXIES', '10.0.0.0/8, proxy.internal'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['MAX_FAILED_ATTEMPTS', '0'],
    ['MAX_FAILED_ATTEMPTS', 'ten'],
    ['REDIS_KEY_PREFIX', 'has spaces'],
    ['RATE_LIMITS', 'sometimes'],
    ['RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', '0'],
    ['WS_MAX_CONNECTIONS', '-1'],
    ['WS_MAX_CONNECTIONS_PER_KEY', '0'],
    ['WS_KEEPALIVE_MS', '10'],
    ['WS_REAUTHORIZE_INTERVAL_MS', 'often'],
  ])('rejects %s=%s with an error naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrowError(new RegExp(`^${variable}: `));
  });

  it('shows introspection and suggestions outside production only, unless GRAPHQL_INTROSPECTION says', () => {
    const introspection = (env: Record<string, string>) => loadConfig(env).security.introspection;
    expect(introspection({})).toBe(true);
    expect(introspection({ NODE_ENV: 'test' })).toBe(true);
    expect(introspection({ NODE_ENV: 'production' })).toBe(false);
    expect(introspection({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'on' })).toBe(true);
    expect(introspection({ GRAPHQL_INTROSPECTION: 'off' })).toBe(false);
  });

  it('limits unauthenticated requests and websockets by default, in keys of their own in Redis', () => {
    const config = loadConfig({});
    expect(config.redisKeyPrefix).toBe('mcp-registry:');
    expect(config.security.rateLimits).toEqual({ enabled: true, unauthenticatedPerMinute: 60 });
    expect(config.security.webSockets).toEqual({
      maxConnections: 10_000,
      maxConnectionsPerKey: 100,
      keepAliveMs: 30_000,
      reauthorizeIntervalMs: 60_000,
    });
    const tuned = loadConfig({ RATE_LIMITS: 'off', REDIS_KEY_PREFIX: 'staging:registry:' });
    expect(tuned.security.rateLimits.enabled).toBe(false);
    expect(tuned.redisKeyPrefix).toBe('staging:registry:');
  });

  it('trusts no proxy and locks keys after 10 wrong secrets by default', () => {
    expect(loadConfig({}).security).toMatchObject({ trustedProxies: [], maxFailedAttempts: 10 });
    const security = loadConfig({
      TRUSTED_PROXIES: ' 10.0.0.0/8 ,::1,, 2001:db8::/32 ',
      MAX_FAILED_ATTEMPTS: '5',
    }).security;
    expect(security).toMatchObject({
      trustedProxies: ['10.0.0.0/8', '::1', '2001:db8::/32'],
      maxFailedAttempts: 5,
    });
  });

  it('never echoes the admin key in its error', () => {
    expect(() => loadConfig({ ADMIN_API_KEY: 'secret1' })).toThrowError(/^((?!secret1).)*$/);
  });
});
