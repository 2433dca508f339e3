import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import { Field, ObjectType, registerEnumType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { Tenant } from '../tenants/tenant.entity.js';

export enum UserRole {
  ADMIN = 'admin',
  USER = 'user',
  SERVICE = 'service',
  READONLY = 'readonly',
}
registerEnumType(UserRole, { name: 'UserRole' });

/** A person or service account; API keys may be issued on its behalf. */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'users' })
@Filter(tenantScoped<User>((scope) => ({ tenant: scope.tenantId })))
// One user per identity at an OpenID provider: first sight of a token's subject creates it exactly once.
@Unique({ name: 'users_auth_provider_identity_unique', properties: ['authProvider', 'authProviderId'] })
export class User extends BaseEntity<
  'role' | 'isActive' | 'authProvider' | 'authProviderId' | 'lastLoginAt'
> {
  @Field()
  @Property({ type: 'string', length: 100, unique: 'users_username_unique' })
  username: string;

  @Field()
  @Property({ type: 'string', length: 255, unique: 'users_email_unique' })
  email: string;

  @Field(() => UserRole)
  @Enum({ items: () => UserRole, default: UserRole.USER })
  role: UserRole = UserRole.USER;

  /** Who vouches for the user: the issuer URL of its access tokens; `null` for users of API keys only. */
  @Field(() => String, { nullable: true })
  @Property({ type: 'string', length: 255, nullable: true })
  authProvider: string | null = null;

  @Property({ type: 'string', length: 255, nullable: true })
  authProviderId: string | null = null;

  // Users belong to their tenant and go with it; platform users have none.
  @Index({ name: 'users_tenant_id_idx' })
  @ManyToOne(() => Tenant, { ref: true, nullable: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant> | null = null;

  @Field()
  @Property({ type: 'boolean', default: true })
  isActive: boolean = true;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastLoginAt: Date | null = null;

  constructor(username: string, email: string) {
    super();
    this.username = username;
    this.email = email;
  }
}
