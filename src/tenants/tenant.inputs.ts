import { Field, InputType } from 'type-graphql';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { TenantStatus } from './tenant.entity.js';

const NAMESPACE_DESCRIPTION =
  'The namespace the MCP Registry API (/v0.1/servers) lists the tenant servers under: reverse-DNS labels in ' +
  'lower case, such as com.example.team, unique. Absent: derived from the tenant name, under REGISTRY_NAMESPACE_BASE.';

@InputType()
export class CreateTenantInput {
  @Field()
  name!: string;

  @Field(() => JSONScalar, { nullable: true })
  settings?: JsonObject | null;

  @Field(() => String, { nullable: true, description: NAMESPACE_DESCRIPTION })
  registryNamespace?: string | null;
}

@InputType()
export class UpdateTenantInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => TenantStatus, { nullable: true })
  status?: TenantStatus | null;

  @Field(() => JSONScalar, { nullable: true })
  settings?: JsonObject | null;

  @Field(() => String, {
    nullable: true,
    description: `${NAMESPACE_DESCRIPTION} The empty text goes back to the derived namespace; null leaves it as it is.`,
  })
  registryNamespace?: string | null;
}
