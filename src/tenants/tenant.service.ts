import { type AuditActor, audited } from '../audit/audit-trail.js';
import { isUniqueViolation } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import { isAdmin, type Viewer } from '../graphql/access.js';
import { conflict, forbidden, notFound } from '../graphql/errors.js';
import { type Connection, findPage, type PageRequest } from '../graphql/pagination.js';
import { isUuid, requireJsonObject, requireName } from '../graphql/validate.js';
import { requireRegistryNamespace } from './registry-namespace.js';
import { Tenant } from './tenant.entity.js';
import type { CreateTenantInput, UpdateTenantInput } from './tenant.inputs.js';

/** Tenants visible to the viewer (all for admins, its own otherwise), by name. */
export function listTenants(
  em: EntityManager,
  viewer: Viewer,
  page: PageRequest,
): Promise<Connection<Tenant>> {
  const visible = isAdmin(viewer) ? {} : { id: viewer.tenantId ?? undefined };
  return findPage(em, Tenant, visible, page, { field: 'name', direction: 'ASC' });
}

/** The tenant with this id, if the viewer may see it; another tenant's id is NOT_FOUND, as is an unknown one. */
export async function findVisibleTenant(em: EntityManager, viewer: Viewer, id: string): Promise<Tenant> {
  const tenant =
    isUuid(id) && (isAdmin(viewer) || viewer.tenantId === id) ? await em.findOne(Tenant, id) : null;
  if (!tenant) throw notFound('Tenant', id);
  return tenant;
}

/** `namespaceBase`: REGISTRY_NAMESPACE_BASE, under which chosen registry namespaces may not sit directly. */
export function createTenant(
  em: EntityManager,
  actor: AuditActor,
  input: CreateTenantInput,
  namespaceBase: string,
): Promise<Tenant> {
  const name = requireName(input.name, 'name');
  const settings = input.settings == null ? {} : requireJsonObject(input.settings, 'settings');
  const namespace =
    input.registryNamespace == null
      ? null
      : requireRegistryNamespace(input.registryNamespace, namespaceBase, 'registryNamespace');
  return audited(
    em,
    actor,
    {
      action: 'tenant.create',
      resourceType: 'tenant',
      details: { name, ...(namespace === null ? {} : { registryNamespace: namespace }) },
    },
    async (tx) => {
      const tenant = new Tenant(name, settings, namespace);
      await flushUnique(tx, tenant);
      return { result: tenant, resourceId: tenant.id };
    },
  );
}

export function updateTenant(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  id: string,
  input: UpdateTenantInput,
  namespaceBase: string,
): Promise<Tenant> {
  const name = input.name == null ? undefined : requireName(input.name, 'name');
  const settings = input.settings == null ? undefined : requireJsonObject(input.settings, 'settings');
  const namespace =
    input.registryNamespace == null
      ? undefined
      : requireRegistryNamespace(input.registryNamespace, namespaceBase, 'registryNamespace');
  if (input.status != null && !isAdmin(viewer))
    throw forbidden("Only platform admins may change a tenant's status.");
  const entry = { action: 'tenant.update', resourceType: 'tenant', details: { fields: Object.keys(input) } };
  return audited(em, actor, entry, async (tx) => {
    const tenant = await findVisibleTenant(tx, viewer, id);
    if (name !== undefined) tenant.name = name;
    if (input.status != null) tenant.status = input.status;
    if (settings !== undefined) tenant.settings = settings;
    if (namespace !== undefined) tenant.registryNamespace = namespace;
    await flushUnique(tx, tenant);
    return { result: tenant, resourceId: tenant.id };
  });
}

async function flushUnique(em: EntityManager, tenant: Tenant): Promise<void> {
  try {
    await em.persistAndFlush(tenant);
  } catch (error) {
    if (isUniqueViolation(error, 'tenants_name_unique'))
      throw conflict(`A tenant named "${tenant.name}" already exists.`);
    if (isUniqueViolation(error, 'tenants_registry_namespace_unique')) {
      throw conflict(`Another tenant has the registry namespace "${tenant.registryNamespace}".`);
    }
    throw error;
  }
}
