import { Field, ID, InputType, Int } from 'type-graphql';
import { ApiKeyScope } from '../graphql/access.js';

@InputType()
export class CreateApiKeyInput {
  @Field()
  name!: string;

  @Field(() => ID, {
    nullable: true,
    description: "Default: the caller's tenant. Only admins may name another.",
  })
  tenantId?: string | null;

  @Field(() => ID, { nullable: true, description: "The user the key acts for; a user of the key's tenant." })
  userId?: string | null;

  @Field(() => [ApiKeyScope], {
    description: 'At least one. A non-admin caller may grant only scopes it holds itself, never ADMIN.',
  })
  scopes!: ApiKeyScope[];

  @Field(() => [ID], {
    nullable: true,
    description:
      "Servers of the key's tenant the key may use; omit it to allow every server of the tenant. A caller limited to some servers must name some of its own.",
  })
  allowedServers?: string[] | null;

  @Field(() => Int, { nullable: true })
  rateLimitPerHour?: number | null;

  @Field(() => Int, { nullable: true })
  rateLimitPerDay?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'IPv4/IPv6 addresses or CIDR ranges the key may be used from; omit it to allow any.',
  })
  ipWhitelist?: string[] | null;

  @Field(() => Date, {
    nullable: true,
    description: 'A moment in the future; omit it for a key that never expires.',
  })
  expiresAt?: Date | null;
}
