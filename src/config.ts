import type { KeyObject } from 'node:crypto';
import path from 'node:path';
import { parseEncryptionKey } from './crypto/keyring.js';
import { parseIpRange } from './net/ip-range.js';

/** The runtime configuration, read from the environment once at start-up. */
export interface AppConfig {
  readonly port: number;
  readonly host: string;
  /**
   * The origin agents and browsers reach this API at (`https://gateway.example.com`), for the absolute URLs it
   * hands out; the listening address when unset.
   */
  readonly publicUrl: string | undefined;
  /** PostgreSQL connection string; `undefined` selects the embedded PGlite database. */
  readonly databaseUrl: string | undefined;
  /** Where the embedded PGlite database lives when `databaseUrl` is unset. */
  readonly dataDir: string;
  /** Redis connection string; `undefined` selects in-process pub/sub and rate limits. */
  readonly redisUrl: string | undefined;
  /** Put before every Redis key this process writes, so deployments can share one Redis. */
  readonly redisKeyPrefix: string;
  /** When set, ensured at start-up as a platform admin key. Never logged. */
  readonly adminApiKey: string | undefined;
  /**
   * Keys that seal stored server credentials: the first seals, all open (rotation). `null` (never in
   * production) means the development key kept in `${dataDir}/encryption.key`. KeyObjects print without
   * their material.
   */
  readonly encryptionKeys: readonly KeyObject[] | null;
  readonly logLevel: LogLevel;
  readonly migrateOnStart: boolean;
  readonly nodeEnv: string;
  readonly health: HealthSettings;
  readonly circuit: CircuitSettings;
  readonly gateway: GatewaySettings;
  readonly security: SecuritySettings;
  readonly tracing: TracingSettings;
  /**
   * The reverse-DNS prefix of the Registry API's server names (`/v0.1/servers`): a tenant's namespace is
   * `<base>.<tenant-slug>` (REGISTRY_NAMESPACE_BASE, default `local.mcp-gateway`).
   */
  readonly registryNamespaceBase: string;
  readonly registryImport: RegistryImportSettings;
}

/** Imports from upstream MCP registries, and their scheduled syncs. */
export interface RegistryImportSettings {
  /**
   * REGISTRY_SYNC_URLS: base URLs of upstream registries kept in sync on a schedule (comma-separated). Each
   * import source of one of them (tenant, url, search: made by a first import) is synced once per interval,
   * fleet-wide, wherever the health checker runs.
   */
  readonly syncUrls: readonly string[];
  /** REGISTRY_SYNC_INTERVAL_MS: how often each source is synced. */
  readonly syncIntervalMs: number;
  /** REGISTRY_IMPORT_TIMEOUT_MS: deadline of each request to an upstream registry (a page of its listing). */
  readonly timeoutMs: number;
}

/** OpenTelemetry tracing (the `OTEL_*` variables of the specification that this application reads itself). */
export interface TracingSettings {
  /** Whether spans are made and exported: `tracesUrl` is set. */
  readonly enabled: boolean;
  /**
   * Where spans are sent, OTLP over HTTP (protobuf): OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as it is, or
   * OTEL_EXPORTER_OTLP_ENDPOINT with `/v1/traces`. `null` (neither set, or OTEL_SDK_DISABLED=true) turns tracing
   * off: no SDK is started and the API's no-op tracer stays in place.
   */
  readonly tracesUrl: string | null;
  /** Sent with every export (OTEL_EXPORTER_OTLP_TRACES_HEADERS over OTEL_EXPORTER_OTLP_HEADERS). Never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** OTEL_SERVICE_NAME, else `service.name` of OTEL_RESOURCE_ATTRIBUTES, else `mcp-registry-gateway`. */
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES (`key=value,…`), describing this process in every span. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** OTEL_TRACES_SAMPLER; `parentbased_always_on` by default, as the specification says. */
  readonly sampler: TraceSampler;
  /** OTEL_TRACES_SAMPLER_ARG: the ratio of the `*traceidratio` samplers, from 0 to 1 (1 by default). */
  readonly samplerRatio: number;
}

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

/** What the API reveals about itself, whom it believes about client addresses, and when keys lock. */
export interface SecuritySettings {
  /** Schema introspection and "Did you mean" suggestions; off by default when NODE_ENV=production. */
  readonly introspection: boolean;
  /** Proxies (addresses and CIDR ranges) whose `X-Forwarded-For` is believed; none by default. */
  readonly trustedProxies: readonly string[];
  /** Addresses and CIDR ranges that may read /metrics without a key (Prometheus scrapers); none by default. */
  readonly metricsAllow: readonly string[];
  /** Wrong secrets sent with a key's prefix before that key is locked until `unlockApiKey`. */
  readonly maxFailedAttempts: number;
  readonly rateLimits: RateLimitSettings;
  readonly webSockets: WebSocketSettings;
  /** Tokens from OpenID providers, accepted beside API keys; `null` (OIDC_ISSUER unset): API keys only. */
  readonly oidc: OidcSettings | null;
}

/**
 * Access tokens (JWTs) from OpenID providers, sent as `Authorization: Bearer <JWT>`. Each issuer's signing keys
 * come from the `jwks_uri` of its discovery document (`<issuer>/.well-known/openid-configuration`).
 */
export interface OidcSettings {
  /** OIDC_ISSUER: the issuers whose tokens are accepted (comma-separated); a token's `iss` must equal one. */
  readonly issuers: readonly string[];
  /** OIDC_AUDIENCE: what every accepted token's `aud` must contain. */
  readonly audience: string;
  /** OIDC_TENANT_CLAIM: the claim naming the caller's tenant, by id or name (`tenant` by default). */
  readonly tenantClaim: string;
  /** OIDC_ROLE_CLAIM: the claim holding the caller's roles (`roles` by default). */
  readonly roleClaim: string;
  /** OIDC_CLIENT_ID: the dashboard's public client at the issuer; `undefined` when the dashboard signs in with keys. */
  readonly clientId: string | undefined;
  /** OIDC_SCOPES: what the dashboard asks the issuer for (space-separated; `openid profile email` by default). */
  readonly scopes: string;
  /** OIDC_RESOURCE: the resource indicator (RFC 8707) the dashboard asks tokens for; `undefined`: none sent. */
  readonly resource: string | undefined;
  /** OIDC_PROVIDER_NAME: the dashboard's "Sign in with …" label; `undefined`: the first issuer's host. */
  readonly providerName: string | undefined;
  /** OIDC_RATE_LIMIT_PER_HOUR / _PER_DAY: each signed-in user's request budgets; `null` for none. */
  readonly rateLimitPerHour: number | null;
  readonly rateLimitPerDay: number | null;
  /** OIDC_JWKS_COOLDOWN_MS: the least time between two fetches of an issuer's keys (for a token of an unseen key). */
  readonly jwksCooldownMs: number;
  /**
   * OIDC_MCP_SCOPES: the scopes an MCP client asks the issuer for when it signs in for `/mcp/{id}` (space- or
   * comma-separated; the protected resource metadata lists them as `scopes_supported`); none by default.
   */
  readonly mcpScopes: readonly string[];
}

/** Request budgets; a key's own budgets are its `rateLimitPerHour` and `rateLimitPerDay`. */
export interface RateLimitSettings {
  /** `RATE_LIMITS=off` turns every rate limit off (for load tests behind a limiter of your own). */
  readonly enabled: boolean;
  /** Requests without a valid key admitted per client address and minute, fleet-wide. */
  readonly unauthenticatedPerMinute: number;
}

/** How many graphql-ws connections are held open, and how dead ones are found. */
export interface WebSocketSettings {
  /** Open connections per instance. */
  readonly maxConnections: number;
  /** Open connections per API key, per instance. */
  readonly maxConnectionsPerKey: number;
  /** How often each socket is pinged; one that has not answered the previous ping is closed. */
  readonly keepAliveMs: number;
  /**
   * How often the keys of open sockets are checked again. A revoked key's sockets close at once (an event
   * tells every instance); this check is the safety net for events lost while Redis was away, and for locks.
   */
  readonly reauthorizeIntervalMs: number;
}

/** How the health checker probes servers and turns probe results into a status. */
export interface HealthSettings {
  /** Run the health checker in this process (`HEALTH_CHECKER=off` for API-only instances). */
  readonly checkerEnabled: boolean;
  readonly intervalMs: number;
  /** Deadline for one probe, connection included. */
  readonly timeoutMs: number;
  /** Probes in flight at once, per instance. */
  readonly concurrency: number;
  /** Consecutive failed probes before a server is UNHEALTHY. */
  readonly unhealthyAfter: number;
  /** Consecutive successful probes before an UNHEALTHY server is usable again. */
  readonly healthyAfter: number;
  /** Average latency above which a working server is DEGRADED. */
  readonly degradedLatencyMs: number;
  /** Probe history older than this is pruned. */
  readonly historyDays: number;
  /** How often capabilities read from a server are read again. */
  readonly capabilityRefreshIntervalMs: number;
  /** Whether the registry may spawn STDIO servers' commands to probe them. */
  readonly allowStdio: boolean;
  readonly capabilityWatch: CapabilityWatchSettings;
}

/**
 * Long-lived sessions to servers that announce `listChanged`, so their capabilities are read again as soon
 * as they say something changed. They run wherever the health checker runs.
 */
export interface CapabilityWatchSettings {
  /** Watch sessions held open per instance; 0 turns watching off. */
  readonly maxSessions: number;
  /** How long a watch lease lasts unless its owner renews it (every third of it). */
  readonly leaseMs: number;
  /** Wait before a failed watch is tried again; doubles with every failure in a row, up to 64 times. */
  readonly retryMs: number;
}

/** Circuit breaker defaults for servers registered without their own threshold. */
export interface CircuitSettings {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly openTimeoutMs: number;
}

/** How the gateway calls tools for clients (`callTool`). */
export interface GatewaySettings {
  /** Deadline for one attempt (connect, `tools/call`, close) on one server. */
  readonly callTimeoutMs: number;
  /** Servers tried for one call before giving up: the first choice and its fail-overs. */
  readonly maxAttempts: number;
  /** Sessions to upstream servers are reused for calls until unused this long; 0: a session per call. */
  readonly upstreamIdleMs: number;
  /** Upstream sessions held open at most per process. */
  readonly maxUpstreamSessions: number;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Thrown when an environment variable has a value the application cannot use. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads and validates the environment. Throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = readString(env, 'NODE_ENV') ?? 'development';
  return {
    port: readInteger(env, 'PORT', 4000, 0, 65535),
    host: readString(env, 'HOST') ?? '0.0.0.0',
    publicUrl: readUrl(env, 'PUBLIC_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    registryNamespaceBase: readNamespaceBase(env),
    registryImport: {
      syncUrls: readUrlList(env, 'REGISTRY_SYNC_URLS'),
      syncIntervalMs: readInteger(env, 'REGISTRY_SYNC_INTERVAL_MS', 3_600_000, 1000, 604_800_000),
      timeoutMs: readInteger(env, 'REGISTRY_IMPORT_TIMEOUT_MS', 10_000, 50, 300_000),
    },
    databaseUrl: readUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    dataDir: path.resolve(readString(env, 'DATA_DIR') ?? '.data'),
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:']),
    redisKeyPrefix: readRedisKeyPrefix(env),
    adminApiKey: readAdminKey(env),
    encryptionKeys: readEncryptionKeys(env, nodeEnv),
    logLevel: readEnum(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    migrateOnStart: readBoolean(env, 'MIGRATE_ON_START', true),
    nodeEnv,
    health: {
      checkerEnabled: readBoolean(env, 'HEALTH_CHECKER', true),
      intervalMs: readInteger(env, 'HEALTH_CHECK_INTERVAL_MS', 30_000, 100, 86_400_000),
      timeoutMs: readInteger(env, 'HEALTH_CHECK_TIMEOUT_MS', 5_000, 50, 300_000),
      concurrency: readInteger(env, 'HEALTH_CHECK_CONCURRENCY', 10, 1, 1000),
      unhealthyAfter: readInteger(env, 'HEALTH_UNHEALTHY_AFTER', 3, 1, 100),
      healthyAfter: readInteger(env, 'HEALTH_HEALTHY_AFTER', 2, 1, 100),
      degradedLatencyMs: readInteger(env, 'HEALTH_DEGRADED_LATENCY_MS', 2_000, 1, 300_000),
      historyDays: readInteger(env, 'HEALTH_HISTORY_DAYS', 7, 1, 3650),
      capabilityRefreshIntervalMs: readInteger(
        env,
        'CAPABILITY_REFRESH_INTERVAL_MS',
        3_600_000,
        1000,
        604_800_000,
      ),
      allowStdio: readBoolean(env, 'ALLOW_STDIO', false),
      capabilityWatch: {
        maxSessions: readInteger(env, 'CAPABILITY_WATCH_MAX', 100, 0, 10_000),
        leaseMs: readInteger(env, 'CAPABILITY_WATCH_LEASE_MS', 30_000, 300, 3_600_000),
        retryMs: readInteger(env, 'CAPABILITY_WATCH_RETRY_MS', 5_000, 10, 3_600_000),
      },
    },
    circuit: {
      failureThreshold: readInteger(env, 'CIRCUIT_FAILURE_THRESHOLD', 5, 1, 100),
      successThreshold: readInteger(env, 'CIRCUIT_SUCCESS_THRESHOLD', 2, 1, 100),
      openTimeoutMs: readInteger(env, 'CIRCUIT_OPEN_TIMEOUT_MS', 30_000, 100, 86_400_000),
    },
    gateway: {
      callTimeoutMs: readInteger(env, 'GATEWAY_CALL_TIMEOUT_MS', 30_000, 50, 600_000),
      maxAttempts: readInteger(env, 'GATEWAY_MAX_ATTEMPTS', 3, 1, 10),
      upstreamIdleMs: readInteger(env, 'GATEWAY_UPSTREAM_IDLE_MS', 60_000, 0, 3_600_000),
      maxUpstreamSessions: readInteger(env, 'GATEWAY_MAX_UPSTREAM_SESSIONS', 500, 1, 100_000),
    },
    security: {
      introspection: readBoolean(env, 'GRAPHQL_INTROSPECTION', nodeEnv !== 'production'),
      trustedProxies: readIpRanges(env, 'TRUSTED_PROXIES'),
      metricsAllow: readIpRanges(env, 'METRICS_ALLOW'),
      maxFailedAttempts: readInteger(env, 'MAX_FAILED_ATTEMPTS', 10, 1, 1000),
      rateLimits: {
        enabled: readBoolean(env, 'RATE_LIMITS', true),
        unauthenticatedPerMinute: readInteger(env, 'RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE', 60, 1, 1_000_000),
      },
      webSockets: {
        maxConnections: readInteger(env, 'WS_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
        maxConnectionsPerKey: readInteger(env, 'WS_MAX_CONNECTIONS_PER_KEY', 100, 1, 1_000_000),
        keepAliveMs: readInteger(env, 'WS_KEEPALIVE_MS', 30_000, 100, 3_600_000),
        reauthorizeIntervalMs: readInteger(env, 'WS_REAUTHORIZE_INTERVAL_MS', 60_000, 100, 3_600_000),
      },
      oidc: readOidc(env),
    },
    tracing: readTracing(env),
  };
}

function readOidc(env: Env): OidcSettings | null {
  const raw = readString(env, 'OIDC_ISSUER');
  if (raw === undefined) return null;
  const issuers = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const issuer of issuers) {
    readUrl({ OIDC_ISSUER: issuer }, 'OIDC_ISSUER', ['http:', 'https:']);
  }
  const audience = readString(env, 'OIDC_AUDIENCE');
  if (audience === undefined) {
    throw new ConfigError(
      'OIDC_AUDIENCE',
      'is required with OIDC_ISSUER: the audience our tokens must carry',
    );
  }
  const optionalInteger = (name: string): number | null =>
    readString(env, name) === undefined ? null : readInteger(env, name, 0, 1, 1_000_000_000);
  return {
    issuers,
    audience,
    tenantClaim: readClaimName(env, 'OIDC_TENANT_CLAIM', 'tenant'),
    roleClaim: readClaimName(env, 'OIDC_ROLE_CLAIM', 'roles'),
    clientId: readString(env, 'OIDC_CLIENT_ID'),
    scopes: readScopes(env, 'OIDC_SCOPES').join(' ') || 'openid profile email',
    resource: readResource(env, 'OIDC_RESOURCE'),
    providerName: readString(env, 'OIDC_PROVIDER_NAME'),
    rateLimitPerHour: optionalInteger('OIDC_RATE_LIMIT_PER_HOUR'),
    rateLimitPerDay: optionalInteger('OIDC_RATE_LIMIT_PER_DAY'),
    jwksCooldownMs: readInteger(env, 'OIDC_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
    mcpScopes: readScopes(env, 'OIDC_MCP_SCOPES'),
  };
}

/** OAuth scope tokens (RFC 6749 3.3: printable ASCII without space, `"` and `\`), space- or comma-separated. */
function readScopes(env: Env, name: string): string[] {
  const scopes = (readString(env, name) ?? '').split(/[\s,]+/).filter((scope) => scope !== '');
  for (const scope of scopes) {
    if (!/^[\x21\x23-\x5B\x5D-\x7E]{1,200}$/.test(scope)) {
      throw new ConfigError(name, `"${scope}" is not an OAuth scope`);
    }
  }
  return [...new Set(scopes)];
}

/** A resource indicator is an absolute URI without a fragment (RFC 8707 section 2). */
function readResource(env: Env, name: string): string | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || url.hash !== '' || raw.includes('#')) {
    throw new ConfigError(name, `"${raw}" is not an absolute URI without a fragment`);
  }
  return raw;
}

function readClaimName(env: Env, name: string, fallback: string): string {
  const claim = readString(env, name) ?? fallback;
  if (!/^[\w.:/-]{1,200}$/.test(claim)) {
    throw new ConfigError(name, `"${claim}" is not a claim name`);
  }
  return claim;
}

function readInteger(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function readString(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function readUrl(env: Env, name: string, protocols: readonly string[]): string | undefined {
  const raw = readString(env, name);
  if (raw === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(
      name,
      `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
    );
  }
  return raw;
}

function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/** A comma-separated list of http(s) URLs. */
function readUrlList(env: Env, name: string): string[] {
  const entries = (readString(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) readUrl({ [name]: entry }, name, ['http:', 'https:']);
  return entries;
}

/** A comma-separated list of addresses and CIDR ranges. */
function readIpRanges(env: Env, name: string): string[] {
  const entries = (readString(env, name) ?? '').split(',').map((entry) => entry.trim());
  const ranges = entries.filter((entry) => entry !== '');
  const bad = ranges.find((entry) => parseIpRange(entry) === null);
  if (bad !== undefined) {
    throw new ConfigError(name, `"${bad}" is not an IPv4/IPv6 address or CIDR range such as 10.0.0.0/8`);
  }
  return ranges;
}

function readEnum<T extends string>(env: Env, name: string, values: readonly T[], fallback: T): T {
  const raw = readString(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  const match = values.find((value) => value === raw);
  if (match === undefined) throw new ConfigError(name, `expected one of ${values.join(', ')}, got "${raw}"`);
  return match;
}

/** Reverse-DNS labels: letters, digits and hyphens, separated by dots (what server.json names allow). */
function readNamespaceBase(env: Env): string {
  const value = readString(env, 'REGISTRY_NAMESPACE_BASE') ?? 'local.mcp-gateway';
  // At most 60 characters: a full server.json name (base, tenant label, server part) stays within 200.
  if (value.length > 60 || !/^[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(value)) {
    throw new ConfigError(
      'REGISTRY_NAMESPACE_BASE',
      'must be reverse-DNS labels such as com.example, at most 60 characters',
    );
  }
  return value;
}

function readRedisKeyPrefix(env: Env): string {
  const prefix = readString(env, 'REDIS_KEY_PREFIX') ?? 'mcp-registry:';
  if (!/^[\w.:-]{1,64}$/.test(prefix)) {
    throw new ConfigError('REDIS_KEY_PREFIX', 'expected up to 64 letters, digits, ".", ":", "-" or "_"');
  }
  return prefix;
}

const MIN_ADMIN_KEY_LENGTH = 24;

function readAdminKey(env: Env): string | undefined {
  const key = readString(env, 'ADMIN_API_KEY');
  if (key !== undefined && key.length < MIN_ADMIN_KEY_LENGTH) {
    // The key itself is never echoed: the message says only what is wrong with it.
    throw new ConfigError('ADMIN_API_KEY', `must be at least ${MIN_ADMIN_KEY_LENGTH} characters long`);
  }
  return key;
}

/**
 * ENCRYPTION_KEY: one or more comma-separated 32-byte keys, base64 or hex. Required in production; elsewhere
 * unset means the development key file. Errors say which entry is wrong, never what it holds.
 */
function readEncryptionKeys(env: Env, nodeEnv: string): KeyObject[] | null {
  const name = 'ENCRYPTION_KEY';
  const raw = readString(env, name);
  const hint = '32-byte keys, base64 or hex (e.g. `openssl rand -base64 32`), comma-separated';
  if (raw === undefined) {
    if (nodeEnv === 'production')
      throw new ConfigError(name, `is required when NODE_ENV=production: ${hint}`);
    return null;
  }
  const entries = raw
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const keys: KeyObject[] = [];
  entries.forEach((entry, index) => {
    const key = parseEncryptionKey(entry);
    if (key === null) throw new ConfigError(name, `entry ${index + 1} is not a key: expected ${hint}`);
    if (keys.some((earlier) => earlier.equals(key))) {
      throw new ConfigError(name, `entry ${index + 1} repeats an earlier key`);
    }
    keys.push(key);
  });
  if (keys.length === 0) throw new ConfigError(name, `expected ${hint}`);
  return keys;
}

/** The OTEL_* variables; unlike the SDK's own reading of them, a bad value stops the start with its name. */
function readTracing(env: Env): TracingSettings {
  const resourceAttributes = readKeyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const protocol =
    readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? readString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/protobuf') {
    const name =
      readString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') === undefined
        ? 'OTEL_EXPORTER_OTLP_PROTOCOL'
        : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
    throw new ConfigError(name, `only http/protobuf is supported, got "${protocol}"`);
  }
  const tracesEndpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', ['http:', 'https:']);
  const endpoint = readUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', ['http:', 'https:']);
  const tracesUrl =
    tracesEndpoint ?? (endpoint === undefined ? undefined : `${endpoint.replace(/\/+$/, '')}/v1/traces`);
  const sampler = readEnum(env, 'OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_always_on');
  const exportTo = readBoolean(env, 'OTEL_SDK_DISABLED', false) ? null : (tracesUrl ?? null);
  return {
    enabled: exportTo !== null,
    tracesUrl: exportTo,
    headers: {
      ...readKeyValueList(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...readKeyValueList(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    serviceName:
      readString(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? 'mcp-registry-gateway',
    resourceAttributes,
    sampler,
    samplerRatio: readRatio(env, 'OTEL_TRACES_SAMPLER_ARG', 1),
  };
}

/** `key=value` pairs separated by commas, values percent-encoded (the W3C Baggage form the OTEL_* lists use). */
function readKeyValueList(env: Env, name: string): Record<string, string> {
  const raw = readString(env, name);
  const pairs: Record<string, string> = {};
  if (raw === undefined) return pairs;
  raw.split(',').forEach((entry, index) => {
    if (entry.trim() === '') return;
    const equals = entry.indexOf('=');
    const key = equals > 0 ? entry.slice(0, equals).trim() : '';
    let value: string | undefined;
    try {
      value = equals > 0 ? decodeURIComponent(entry.slice(equals + 1).trim()) : undefined;
    } catch {
      value = undefined;
    }
    // The entry itself is never echoed: header values are credentials.
    if (key === '' || value === undefined)
      throw new ConfigError(name, `entry ${index + 1} is not key=value (percent-encoded)`);
    pairs[key] = value;
  });
  return pairs;
}

function readRatio(env: Env, name: string, fallback: number): number {
  const raw = readString(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) {
    throw new ConfigError(name, `expected a number from 0 to 1, got "${raw}"`);
  }
  return value;
}
