import { loadById } from '../db/loaders.js';
import type { GraphQLContext } from '../graphql/context.js';
import { isUuid } from '../graphql/validate.js';
import { Tenant } from './tenant.entity.js';

/** `_entities` for Tenant: batched through MikroORM's reference dataloader, inside the request's tenant scope. */
export function resolveTenantReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<Tenant | null> {
  return isUuid(reference.id) ? loadById(context.em, Tenant, reference.id) : Promise.resolve(null);
}
