import { canAccessTenant, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { isUuid } from '../graphql/validate.js';
import { Tenant } from './tenant.entity.js';

/** `_entities` for Tenant: batched through MikroORM's reference dataloader, visible tenants only. */
export async function resolveTenantReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<Tenant | null> {
  if (!isUuid(reference.id) || !canAccessTenant(viewerOf(context), reference.id)) return null;
  return context.em.getReference(Tenant, reference.id, { wrapped: true }).load();
}
