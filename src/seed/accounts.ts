import type { ApiKey } from '../auth/api-key.entity.js';
import { issueApiKey } from '../auth/api-key.service.js';
import type { EntityManager } from '../db/orm.js';
import { ApiKeyScope } from '../graphql/access.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User, UserRole } from '../users/user.entity.js';
import { PEOPLE, TENANT_NAMES } from './catalog.js';
import type { Random } from './random.js';
import { DAY_MS, HOUR_MS } from './timeline.js';

/**
 * Tenants, their users and API keys: few rows, written through the ORM so keys are issued exactly as the
 * API issues them (`issueApiKey`: random secret, only its hash stored). Key secrets and key ids are the only
 * values a seed does not reproduce: credentials must never be predictable from a seed number.
 */

export interface SeededKey {
  readonly id: string;
  /** The plaintext key; usable unless `isActive` is false. */
  readonly key: string;
  readonly name: string;
  readonly scopes: readonly ApiKeyScope[];
  readonly isActive: boolean;
  readonly userId: string | null;
  readonly createdAt: number;
}

export interface SeededUser {
  readonly id: string;
  readonly username: string;
  readonly role: UserRole;
  readonly createdAt: number;
}

export interface SeededTenant {
  readonly id: string;
  readonly name: string;
  /** DNS-safe form of the name, used in host names and usernames. */
  readonly slug: string;
  readonly createdAt: number;
  readonly users: readonly SeededUser[];
  /** The first key is the tenant's usable READ+WRITE key. */
  readonly keys: readonly SeededKey[];
  /** Addresses its people and services call from. */
  readonly addresses: readonly string[];
}

export interface SeededAccounts {
  readonly tenants: readonly SeededTenant[];
  /** A platform key with every scope. */
  readonly admin: SeededKey;
  readonly rows: { readonly tenants: number; readonly users: number; readonly api_keys: number };
}

const PLANS = ['free', 'team', 'business', 'enterprise'];
const REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2', 'ap-southeast-2'];
/** Each tenant's people: an admin, a user and a service account. */
const USER_ROLES = [UserRole.ADMIN, UserRole.USER, UserRole.SERVICE];

interface KeyPlan {
  readonly name: string;
  readonly scopes: ApiKeyScope[];
  readonly chance: number;
  /** Issued on behalf of the tenant's service account. */
  readonly forService?: boolean;
  readonly revoked?: boolean;
}

/** The first plan is always issued: it is the key printed for the tenant. */
const KEY_PLANS: readonly KeyPlan[] = [
  { name: 'dashboard', scopes: [ApiKeyScope.READ, ApiKeyScope.WRITE], chance: 1 },
  {
    name: 'metrics exporter',
    scopes: [ApiKeyScope.READ, ApiKeyScope.METRICS],
    chance: 0.5,
    forService: true,
  },
  { name: 'agent gateway', scopes: [ApiKeyScope.READ, ApiKeyScope.PROXY], chance: 0.4, forService: true },
  { name: 'old ci key', scopes: [ApiKeyScope.READ, ApiKeyScope.WRITE], chance: 0.25, revoked: true },
];

export async function createAccounts(
  em: EntityManager,
  random: Random,
  count: number,
  now: number,
): Promise<SeededAccounts> {
  const issued: { key: ApiKey; secret: string; createdAt: number }[] = [];
  const issue = (tenantId: string | null, plan: KeyPlan, userId: string | null, createdAt: number) => {
    const { apiKey, key } = issueApiKey(em, { name: plan.name, scopes: plan.scopes, tenantId, userId });
    apiKey.isActive = !plan.revoked;
    apiKey.createdAt = apiKey.updatedAt = new Date(createdAt);
    apiKey.lastUsedAt = plan.revoked ? null : new Date(now - random.int(1, 600) * 60_000);
    issued.push({ key: apiKey, secret: key, createdAt });
    return apiKey;
  };

  const plannedTenants = Array.from({ length: count }, (_, index) => {
    const name = tenantName(index);
    const tenant = new Tenant(name, {
      plan: random.pick(PLANS),
      region: random.pick(REGIONS),
      maxServers: random.pick([100, 500, 1000, 5000]),
    });
    tenant.id = random.uuid();
    const createdAt = now - 30 * DAY_MS - random.int(1, 15 * 24) * HOUR_MS;
    tenant.createdAt = tenant.updatedAt = new Date(createdAt);
    em.persist(tenant);
    const slug = slugOf(name);
    const users = USER_ROLES.map((role, userIndex) => {
      const [first, last] = PEOPLE[(index + userIndex * 3) % PEOPLE.length] ?? ['sam', 'doe'];
      const user = new User(`${slug}.${first}`, `${first}.${last}@${slug}.example`);
      user.id = random.uuid();
      user.role = role;
      user.tenant = em.getReference(Tenant, tenant.id, { wrapped: true });
      const userCreated = createdAt + random.int(1, 48) * HOUR_MS;
      user.createdAt = user.updatedAt = new Date(userCreated);
      user.lastLoginAt = new Date(now - random.int(1, 14 * 24) * HOUR_MS);
      em.persist(user);
      return { id: user.id, username: user.username, role, createdAt: userCreated };
    });
    const service = users.find((user) => user.role === UserRole.SERVICE);
    // Keys come after the people: within a few days of the tenant's start.
    const keys = KEY_PLANS.filter((plan, planIndex) => planIndex === 0 || random.chance(plan.chance)).map(
      (plan) =>
        issue(
          tenant.id,
          plan,
          plan.forService ? (service?.id ?? null) : null,
          createdAt + random.int(49, 96) * HOUR_MS,
        ),
    );
    const addresses = [
      `203.0.113.${random.int(1, 254)}`,
      `198.51.100.${random.int(1, 254)}`,
      `10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`,
    ];
    return { id: tenant.id, name, slug, createdAt, users, keys, addresses };
  });
  const adminKey = issue(
    null,
    { name: 'seed platform admin', scopes: Object.values(ApiKeyScope), chance: 1 },
    null,
    now - 46 * DAY_MS,
  );
  await em.flush();

  const seeded = new Map(
    issued.map(({ key, secret, createdAt }) => [key, toSeededKey(key, secret, createdAt)]),
  );
  const tenants = plannedTenants.map((tenant) => ({
    ...tenant,
    keys: tenant.keys.map((key) => seeded.get(key) as SeededKey),
  }));
  const users = tenants.reduce((sum, tenant) => sum + tenant.users.length, 0);
  return {
    tenants,
    admin: seeded.get(adminKey) as SeededKey,
    rows: { tenants: tenants.length, users, api_keys: issued.length },
  };
}

function toSeededKey(apiKey: ApiKey, secret: string, createdAt: number): SeededKey {
  return {
    id: apiKey.id,
    key: secret,
    name: apiKey.name,
    scopes: apiKey.scopes,
    isActive: apiKey.isActive,
    userId: apiKey.user?.id ?? null,
    createdAt,
  };
}

function tenantName(index: number): string {
  const base = TENANT_NAMES[index % TENANT_NAMES.length] as string;
  const round = Math.floor(index / TENANT_NAMES.length);
  return round === 0 ? base : `${base} ${round + 1}`;
}

export function slugOf(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
