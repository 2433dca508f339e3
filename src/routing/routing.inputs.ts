import { Field, Float, ID, InputType, Int, ObjectType } from 'type-graphql';
import { JSONScalar, type JsonValue } from '../graphql/scalars.js';
import { LoadBalancingStrategy } from './routing.enums.js';

@InputType()
export class CreateRoutingRuleInput {
  @Field()
  name!: string;

  @Field(() => JSONScalar, {
    description:
      'Which calls the rule applies to: `{ "toolName": "search*" }` (a glob or a list of globs) and/or ' +
      '`{ "arguments": { "region": "eu" } }` (exact top-level argument values); `{}` matches every call.',
  })
  conditions!: JsonValue;

  @Field(() => [ID], { description: 'Servers of the caller that calls matching the rule are sent to.' })
  targetServerIds!: string[];

  @Field(() => [Int], {
    nullable: true,
    description: 'For WEIGHTED: the weight of each target, in the order of targetServerIds (default 1 each).',
  })
  weights?: number[] | null;

  @Field(() => LoadBalancingStrategy, { nullable: true, description: 'ROUND_ROBIN unless given.' })
  loadBalancingStrategy?: LoadBalancingStrategy | null;

  @Field(() => Int, { nullable: true, description: 'Higher is tried first; 0 unless given.' })
  priority?: number | null;
}

@InputType()
export class CallToolInput {
  @Field()
  toolName!: string;

  @Field(() => JSONScalar, { nullable: true, description: 'The tool arguments: a JSON object.' })
  arguments?: JsonValue | null;

  @Field(() => ID, { nullable: true, description: 'Call the tool on this server only (no fail-over).' })
  serverId?: string | null;
}

@ObjectType({ simpleResolvers: true, description: 'The answer of a tool called through the gateway.' })
export class CallToolResult {
  @Field(() => ID, { description: 'The server that answered.' })
  serverId!: string;

  @Field()
  toolName!: string;

  @Field({ description: "True when the tool reported an error: that is the tool's answer, not a failure." })
  isError!: boolean;

  @Field(() => JSONScalar, { description: "The result's MCP content blocks, as the server sent them." })
  content!: JsonValue;

  @Field(() => JSONScalar, { nullable: true, description: 'The structured result, when the tool gives one.' })
  structuredContent!: JsonValue | null;

  @Field(() => Float, { description: 'Duration of the answering attempt, connect included.' })
  durationMs!: number;

  @Field(() => Int, { description: 'Servers tried, the answering one included (1 without fail-over).' })
  attempts!: number;
}
