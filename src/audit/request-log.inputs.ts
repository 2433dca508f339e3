import { Field, Float, InputType, Int } from 'type-graphql';

@InputType({ description: 'Requests that match every field given. `since` and `until` are inclusive.' })
export class RequestLogFilter {
  @Field(() => String, { nullable: true })
  operationName?: string | null;

  @Field(() => Float, { nullable: true, description: 'Requests that took at least this long.' })
  minDurationMs?: number | null;

  @Field(() => Int, { nullable: true })
  statusCode?: number | null;

  @Field(() => Date, { nullable: true })
  since?: Date | null;

  @Field(() => Date, { nullable: true })
  until?: Date | null;
}
