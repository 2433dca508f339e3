import { type AuditActor, audited } from '../audit/audit-trail.js';
import { isUniqueViolation } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import { isAdmin, requireTenantManagement, requireTenantScope, type Viewer } from '../graphql/access.js';
import { ApiError, badUserInput, ErrorCode, forbidden } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { isUuid } from '../graphql/validate.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { findVisibleTenant } from '../tenants/tenant.service.js';
import { User, UserRole } from './user.entity.js';
import type { CreateUserInput } from './user.inputs.js';
import { optionalText, requireEmail, requireUsername } from './user-input.validation.js';

/**
 * Users the viewer may see, by username: all for admins, its tenant's otherwise. Platform users (no tenant)
 * are operators, so a platform key without ADMIN (a metrics scraper, say) does not get to list them.
 */
export async function listUsers(
  em: EntityManager,
  viewer: Viewer,
  page: PageRequest,
): Promise<Connection<User>> {
  return findPage(em, User, requireTenantScope(viewer, 'users'), page, {
    field: 'username',
    direction: 'ASC',
  });
}

interface NewUser {
  readonly username: string;
  readonly email: string;
  readonly role: UserRole;
  readonly authProvider: string | null;
  readonly authProviderId: string | null;
}

function validateNewUser(input: CreateUserInput): NewUser {
  const authProvider = optionalText(input.authProvider, 'authProvider', 50);
  const authProviderId = optionalText(input.authProviderId, 'authProviderId', 255);
  if (authProviderId !== null && authProvider === null) {
    throw badUserInput('"authProviderId" needs the "authProvider" it belongs to.', 'authProviderId');
  }
  return {
    username: requireUsername(input.username),
    email: requireEmail(input.email),
    role: input.role ?? UserRole.USER,
    authProvider,
    authProviderId,
  };
}

/**
 * Creates a user in the caller's tenant, or for platform admins in any tenant (or none). Access decisions
 * happen inside the audited change, so refused attempts leave a failed audit row.
 */
export function createUser(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  input: CreateUserInput,
): Promise<User> {
  const fields = validateNewUser(input);
  const tenantId = input.tenantId ?? viewer.tenantId;
  const entry = {
    action: 'user.create',
    resourceType: 'user',
    details: { username: fields.username, role: fields.role.toUpperCase(), tenantId: auditableId(tenantId) },
  };
  return audited(em, actor, entry, async (tx) => {
    requireTenantManagement(viewer, 'users');
    if (fields.role === UserRole.ADMIN && !isAdmin(viewer)) {
      throw forbidden('Only platform admins may create users with the ADMIN role.');
    }
    if (tenantId === null && !isAdmin(viewer)) {
      throw forbidden('Only platform admins may create users without a tenant: pass "tenantId".');
    }
    const tenant = tenantId === null ? null : await findVisibleTenant(tx, viewer, tenantId);
    const user = new User(fields.username, fields.email);
    user.role = fields.role;
    user.authProvider = fields.authProvider;
    user.authProviderId = fields.authProviderId;
    user.tenant = tenant === null ? null : tx.getReference(Tenant, tenant.id, { wrapped: true });
    await flushUnique(tx, user);
    return { result: user, resourceId: user.id };
  });
}

/** Usernames and emails are unique across the platform; the error names the field that clashed. */
async function flushUnique(em: EntityManager, user: User): Promise<void> {
  try {
    await em.persistAndFlush(user);
  } catch (error) {
    if (isUniqueViolation(error, 'users_username_unique')) {
      throw clash('username', `The username "${user.username}" is taken.`);
    }
    if (isUniqueViolation(error, 'users_email_unique')) {
      throw clash('email', 'A user with this email already exists.');
    }
    throw error;
  }
}

const clash = (field: string, message: string): ApiError =>
  new ApiError(ErrorCode.CONFLICT, message, { field });

/** Only a well-formed id goes into the audit trail: anything else names nothing and may be any size. */
const auditableId = (id: string | null): string | null => (id !== null && isUuid(id) ? id : null);
