import { Field, ID, InputType } from 'type-graphql';
import { UserRole } from './user.entity.js';

@InputType()
export class CreateUserInput {
  @Field({
    description: "1 to 100 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit; stored lowercase.",
  })
  username!: string;

  @Field({ description: 'Stored lowercase, so one address cannot belong to two users.' })
  email!: string;

  @Field(() => UserRole, {
    nullable: true,
    description: 'Default USER. Only platform admins may create ADMIN users.',
  })
  role?: UserRole | null;

  @Field(() => ID, {
    nullable: true,
    description: "Default: the caller's tenant. Only admins may name another.",
  })
  tenantId?: string | null;

  @Field(() => String, { nullable: true, description: 'The identity provider, e.g. `github` or `oidc`.' })
  authProvider?: string | null;

  @Field(() => String, { nullable: true, description: "The user's id at `authProvider`." })
  authProviderId?: string | null;
}
