import { Entity, Enum, Filter, Index, ManyToOne, Property, type Ref } from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { ApiKeyScope } from '../graphql/access.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { User } from '../users/user.entity.js';

type ApiKeyDefaults =
  | 'user'
  | 'allowedServers'
  | 'rateLimitPerHour'
  | 'rateLimitPerDay'
  | 'ipWhitelist'
  | 'failedAttempts'
  | 'isLocked'
  | 'isActive'
  | 'expiresAt'
  | 'lastUsedAt';

/**
 * An API key. Only the SHA-256 of the key is stored; the plaintext is shown once, when it is created.
 * `prefix` is the key's first characters, kept so people can tell their keys apart.
 */
@ObjectType({ simpleResolvers: true })
@Entity({ tableName: 'api_keys' })
@Filter(tenantScoped<ApiKey>((scope) => ({ tenant: scope.tenantId })))
export class ApiKey extends BaseEntity<ApiKeyDefaults> {
  /** Platform keys (for operators) have no tenant; tenant keys are deleted with their tenant. */
  @Index({ name: 'api_keys_tenant_id_idx' })
  @ManyToOne(() => Tenant, { ref: true, nullable: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant> | null;

  @Index({ name: 'api_keys_user_id_idx' })
  @ManyToOne(() => User, { ref: true, nullable: true, deleteRule: 'set null' })
  user: Ref<User> | null = null;

  @Field()
  @Property({ type: 'string', length: 255 })
  name: string;

  /** Hex SHA-256 of the key: the authentication lookup goes through its unique index. */
  @Property({ type: 'string', length: 64, unique: 'api_keys_key_hash_unique', hidden: true })
  keyHash: string;

  /** Wrong secrets sent with a key's prefix count against that key: authentication looks it up by prefix. */
  @Field()
  @Index({ name: 'api_keys_prefix_idx' })
  @Property({ type: 'string', length: 32 })
  prefix: string;

  @Field(() => [ApiKeyScope])
  @Enum({ items: () => ApiKeyScope, array: true })
  scopes: ApiKeyScope[];

  /** Servers this key may use; `null` means every server of its tenant. */
  @Field(() => [ID], { nullable: true })
  @Property({ type: 'uuid[]', nullable: true })
  allowedServers: string[] | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  rateLimitPerHour: number | null = null;

  @Field(() => Int, { nullable: true })
  @Property({ type: 'integer', nullable: true })
  rateLimitPerDay: number | null = null;

  /** Addresses and CIDR ranges allowed to use this key; `null` allows any. */
  @Field(() => [String], { nullable: true })
  @Property({ type: 'text[]', nullable: true })
  ipWhitelist: string[] | null = null;

  @Field(() => Int)
  @Property({ type: 'integer', default: 0 })
  failedAttempts: number = 0;

  @Field()
  @Property({ type: 'boolean', default: false })
  isLocked: boolean = false;

  @Field()
  @Property({ type: 'boolean', default: true })
  isActive: boolean = true;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  expiresAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastUsedAt: Date | null = null;

  constructor(fields: {
    name: string;
    keyHash: string;
    prefix: string;
    scopes: ApiKeyScope[];
    tenant: Ref<Tenant> | null;
  }) {
    super();
    this.name = fields.name;
    this.keyHash = fields.keyHash;
    this.prefix = fields.prefix;
    this.scopes = fields.scopes;
    this.tenant = fields.tenant;
  }
}
