import { Field, InputType } from 'type-graphql';
import { JSONScalar, type JsonObject } from '../graphql/scalars.js';
import { TenantStatus } from './tenant.entity.js';

@InputType()
export class CreateTenantInput {
  @Field()
  name!: string;

  @Field(() => JSONScalar, { nullable: true })
  settings?: JsonObject | null;
}

@InputType()
export class UpdateTenantInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => TenantStatus, { nullable: true })
  status?: TenantStatus | null;

  @Field(() => JSONScalar, { nullable: true })
  settings?: JsonObject | null;
}
