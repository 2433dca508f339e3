import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { Keyring, keyIdOf } from '../src/crypto/keyring.js';

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
    ['CAPABILITY_WATCH_MAX', '-1'],
    ['CAPABILITY_WATCH_MAX', '10001'],
    ['CAPABILITY_WATCH_MAX', 'many'],
    ['CAPABILITY_WATCH_LEASE_MS', '299'],
    ['CAPABILITY_WATCH_LEASE_MS', '1.5'],
    ['CAPABILITY_WATCH_RETRY_MS', '9'],
    ['CAPABILITY_WATCH_RETRY_MS', '3600001'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'grpc://collector:4317'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_EXPORTER_OTLP_HEADERS', 'no-equals-sign'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'bad=%E0%A4%A'],
    ['OTEL_TRACES_SAMPLER', 'sometimes'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_TRACES_SAMPLER_ARG', 'half'],
    ['OTEL_SDK_DISABLED', 'maybe'],
  ])('rejects %s=%s with an error naming the variable', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrowError(ConfigError);
    expect(() => loadConfig({ [variable]: value })).toThrowError(new RegExp(`^${variable}: `));
  });

  it('traces only when an OTLP endpoint is set, to <endpoint>/v1/traces or the traces endpoint as given', () => {
    expect(loadConfig({}).tracing).toEqual({
      enabled: false,
      tracesUrl: null,
      headers: {},
      serviceName: 'mcp-registry-gateway',
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
    const base = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' };
    expect(loadConfig(base).tracing).toMatchObject({
      enabled: true,
      tracesUrl: 'http://collector:4318/v1/traces',
    });
    expect(
      loadConfig({ ...base, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp' }).tracing
        .tracesUrl,
    ).toBe('https://traces.example.com/otlp');
    expect(loadConfig({ ...base, OTEL_SDK_DISABLED: 'true' }).tracing).toMatchObject({
      enabled: false,
      tracesUrl: null,
    });
    expect(
      loadConfig({
        ...base,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20abc, x-tenant=one',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-tenant=two',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging,service.name=from-resource',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing,
    ).toMatchObject({
      headers: { authorization: 'Bearer abc', 'x-tenant': 'two' },
      serviceName: 'from-resource',
      resourceAttributes: { 'deployment.environment.name': 'staging', 'service.name': 'from-resource' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
    expect(loadConfig({ ...base, OTEL_SERVICE_NAME: 'gateway-eu' }).tracing.serviceName).toBe('gateway-eu');
  });

  it('never echoes an OTLP header value it cannot read', () => {
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=secret%ZZ' })).toThrowError(
      /^OTEL_EXPORTER_OTLP_HEADERS: entry 1 is not key=value/,
    );
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=secret%ZZ' })).not.toThrowError(
      /secret/,
    );
  });

  it('watches up to 100 servers per instance by default, on 30-second leases; 0 turns watching off', () => {
    expect(loadConfig({}).health.capabilityWatch).toEqual({
      maxSessions: 100,
      leaseMs: 30_000,
      retryMs: 5_000,
    });
    expect(
      loadConfig({
        CAPABILITY_WATCH_MAX: '0',
        CAPABILITY_WATCH_LEASE_MS: '300',
        CAPABILITY_WATCH_RETRY_MS: '10',
      }).health.capabilityWatch,
    ).toEqual({ maxSessions: 0, leaseMs: 300, retryMs: 10 });
  });

  it('shows introspection and suggestions outside production only, unless GRAPHQL_INTROSPECTION says', () => {
    const introspection = (env: Record<string, string>) => loadConfig(env).security.introspection;
    expect(introspection({})).toBe(true);
    expect(introspection({ NODE_ENV: 'test' })).toBe(true);
    const production = { NODE_ENV: 'production', ENCRYPTION_KEY: 'a'.repeat(64) };
    expect(introspection(production)).toBe(false);
    expect(introspection({ ...production, GRAPHQL_INTROSPECTION: 'on' })).toBe(true);
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

  describe('OIDC', () => {
    it('accepts API keys only when OIDC_ISSUER is unset', () => {
      expect(loadConfig({}).security.oidc).toBeNull();
    });

    it('takes several issuers, comma-separated, with one audience and default claim names', () => {
      const { oidc } = loadConfig({
        OIDC_ISSUER: 'https://id.example.com/realms/a, https://login.example.org/',
        OIDC_AUDIENCE: 'urn:gateway',
      }).security;
      expect(oidc).toEqual({
        issuers: ['https://id.example.com/realms/a', 'https://login.example.org/'],
        audience: 'urn:gateway',
        tenantClaim: 'tenant',
        roleClaim: 'roles',
        clientId: undefined,
        scopes: 'openid profile email',
        resource: undefined,
        providerName: undefined,
        rateLimitPerHour: null,
        rateLimitPerDay: null,
        jwksCooldownMs: 30_000,
        mcpScopes: [],
      });
    });

    it('reads the claims, the client and per-user budgets', () => {
      const { oidc } = loadConfig({
        OIDC_ISSUER: 'https://id.example.com',
        OIDC_AUDIENCE: 'urn:gateway',
        OIDC_TENANT_CLAIM: 'https://example.com/tenant',
        OIDC_ROLE_CLAIM: 'realm_access.roles',
        OIDC_CLIENT_ID: 'dashboard',
        OIDC_SCOPES: ' openid  api://gateway/access ',
        OIDC_PROVIDER_NAME: 'Acme ID',
        OIDC_RESOURCE: 'urn:gateway',
        OIDC_RATE_LIMIT_PER_HOUR: '500',
        OIDC_RATE_LIMIT_PER_DAY: '5000',
        OIDC_MCP_SCOPES: 'mcp, api://gateway/mcp mcp',
      }).security;
      expect(oidc).toMatchObject({
        tenantClaim: 'https://example.com/tenant',
        roleClaim: 'realm_access.roles',
        clientId: 'dashboard',
        scopes: 'openid api://gateway/access',
        providerName: 'Acme ID',
        resource: 'urn:gateway',
        rateLimitPerHour: 500,
        rateLimitPerDay: 5000,
        mcpScopes: ['mcp', 'api://gateway/mcp'],
      });
    });

    it.each([
      [{ OIDC_ISSUER: 'https://id.example.com' }, 'OIDC_AUDIENCE'],
      [{ OIDC_ISSUER: 'https://id.example.com, not a url', OIDC_AUDIENCE: 'a' }, 'OIDC_ISSUER'],
      [{ OIDC_ISSUER: 'ftp://id.example.com', OIDC_AUDIENCE: 'a' }, 'OIDC_ISSUER'],
      [
        { OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'a', OIDC_ROLE_CLAIM: 'ro les' },
        'OIDC_ROLE_CLAIM',
      ],
      [
        { OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'a', OIDC_SCOPES: 'openid "api"' },
        'OIDC_SCOPES',
      ],
      [
        { OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'a', OIDC_RESOURCE: 'gateway' },
        'OIDC_RESOURCE',
      ],
      [
        { OIDC_ISSUER: 'https://id.example.com', OIDC_AUDIENCE: 'a', OIDC_MCP_SCOPES: 'mcp "quoted"' },
        'OIDC_MCP_SCOPES',
      ],
    ])('refuses %j naming %s', (env, variable) => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(new RegExp(`^${variable}:`));
    });
  });

  it('never echoes the admin key in its error', () => {
    expect(() => loadConfig({ ADMIN_API_KEY: 'secret1' })).toThrowError(/^((?!secret1).)*$/);
  });

  describe('ENCRYPTION_KEY', () => {
    const hexKey = 'ab'.repeat(32);
    const base64Key = Buffer.alloc(32, 9).toString('base64');

    it('takes comma-separated 32-byte keys, hex or base64; the first one seals', () => {
      const keys = loadConfig({ ENCRYPTION_KEY: ` ${base64Key} , ${hexKey},` }).encryptionKeys ?? [];
      expect(keys.map((key) => key.export().toString('hex'))).toEqual([
        Buffer.alloc(32, 9).toString('hex'),
        hexKey,
      ]);
      const [first] = keys;
      if (first === undefined) throw new Error('no key');
      expect(new Keyring(keys).currentKeyId).toBe(keyIdOf(first));
    });

    it('leaves the key to the development key file when unset outside production', () => {
      expect(loadConfig({}).encryptionKeys).toBeNull();
      expect(loadConfig({ NODE_ENV: 'test', ENCRYPTION_KEY: '' }).encryptionKeys).toBeNull();
    });

    it('is required in production, with an error naming the variable', () => {
      expect(() => loadConfig({ NODE_ENV: 'production' })).toThrowError(
        /^ENCRYPTION_KEY: is required when NODE_ENV=production/,
      );
      expect(loadConfig({ NODE_ENV: 'production', ENCRYPTION_KEY: hexKey }).encryptionKeys).toHaveLength(1);
    });

    it.each([
      ['a short key', 'c2VjcmV0LWtleS10b28tc2hvcnQ=', /entry 1 is not a key/],
      ['31 bytes', Buffer.alloc(31, 1).toString('base64'), /entry 1 is not a key/],
      ['33 bytes as hex', 'cd'.repeat(33), /entry 1 is not a key/],
      ['a passphrase', 'correct horse battery staple', /entry 1 is not a key/],
      ['a bad second key', `${hexKey},nope-not-a-key`, /entry 2 is not a key/],
      ['the same key twice', `${hexKey},${Buffer.from(hexKey, 'hex').toString('base64')}`, /entry 2 repeats/],
      ['only commas', ',,', /expected 32-byte keys/],
    ])('rejects %s without echoing it', (_label, value, problem) => {
      const attempt = () => loadConfig({ ENCRYPTION_KEY: value });
      expect(attempt).toThrowError(ConfigError);
      expect(attempt).toThrowError(/^ENCRYPTION_KEY: /);
      expect(attempt).toThrowError(problem);
      for (const entry of value.split(',').filter((part) => part.length > 3)) {
        expect(attempt).toThrowError(new RegExp(`^((?!${entry.replace(/[^\w]/g, '.')}).)*$`));
      }
    });
  });
});
