import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { AuditLog } from '../audit/audit-log.entity.js';
import { loadById } from '../db/loaders.js';
import type { GraphQLContext } from '../graphql/context.js';
import { User } from './user.entity.js';

/** Adds `user` to AuditLog: the users feature owns User, so it answers who an entry's user is. */
@Resolver(() => AuditLog)
export class AuditLogUserResolver {
  @FieldResolver(() => User, {
    nullable: true,
    description: 'Who acted, when the key was issued to a user; null once that user is deleted.',
  })
  async user(@Root() log: AuditLog, @Ctx() context: GraphQLContext): Promise<User | null> {
    if (log.userId === null) return null;
    // A reference load: MikroORM's per-request dataloader batches the users of a whole page into one query,
    // inside the request's tenant scope (audit history outlives users and their moves between tenants).
    return loadById(context.em, User, log.userId);
  }
}
