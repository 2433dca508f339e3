import { Field, ID, InputType } from 'type-graphql';

@InputType({ description: 'Audit entries that match every field given. `since` and `until` are inclusive.' })
export class AuditLogFilter {
  @Field(() => String, { nullable: true, description: 'As `resource.verb`, e.g. `server.create`.' })
  action?: string | null;

  @Field(() => String, { nullable: true })
  resourceType?: string | null;

  @Field(() => ID, { nullable: true })
  resourceId?: string | null;

  @Field(() => ID, { nullable: true })
  userId?: string | null;

  @Field(() => Boolean, { nullable: true })
  success?: boolean | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}
