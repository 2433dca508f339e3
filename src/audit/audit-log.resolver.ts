import { Arg, Authorized, Ctx, Int, Query, Resolver } from 'type-graphql';
import { ApiKeyScope, viewerOf } from '../graphql/access.js';
import type { GraphQLContext } from '../graphql/context.js';
import { type Connection, ConnectionType, pageRequest } from '../graphql/pagination.js';
import { AuditLog } from './audit-log.entity.js';
import { AuditLogFilter } from './audit-log.inputs.js';
import { listAuditLogs } from './audit-log.service.js';

const AuditLogConnection = ConnectionType('AuditLog', AuditLog);

@Resolver(() => AuditLog)
export class AuditLogResolver {
  /**
   * READ: a tenant's audit trail is about its own resources, changed by its own keys, and holds no secrets
   * (details carry names and changed fields, never keys or headers); a tenant's dashboard shows it. Other
   * tenants' entries and platform actions (no tenant) stay with the platform admins.
   */
  @Authorized(ApiKeyScope.READ)
  @Query(() => AuditLogConnection, {
    description: "Audit entries, newest first: your tenant's, or every tenant's for platform admins.",
  })
  auditLogs(
    @Ctx() context: GraphQLContext,
    @Arg('filter', () => AuditLogFilter, { nullable: true }) filter?: AuditLogFilter | null,
    @Arg('first', () => Int, { nullable: true }) first?: number | null,
    @Arg('after', () => String, { nullable: true }) after?: string | null,
  ): Promise<Connection<AuditLog>> {
    return listAuditLogs(context.em, viewerOf(context), filter, pageRequest(first, after));
  }
}
