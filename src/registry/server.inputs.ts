import { Field, ID, InputType, Int, registerEnumType } from 'type-graphql';
import { OrderDirection } from '../graphql/pagination.js';
import { JSONScalar, type JsonObject, type JsonValue } from '../graphql/scalars.js';
import { ServerStatus, TransportType } from './registry.enums.js';

@InputType({ description: 'A tool declared by hand, for servers the registry does not ask itself.' })
export class ServerToolInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => JSONScalar, { nullable: true, description: "The tool's input JSON Schema (an object)." })
  toolSchema?: JsonValue | null;
}

@InputType()
export class ServerResourceInput {
  @Field({ description: 'A resource URI, or an RFC 6570 URI template such as `file:///{path}`.' })
  uriTemplate!: string;

  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  mimeType?: string | null;
}

@InputType()
export class ServerPromptInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class RegisterServerInput {
  @Field()
  name!: string;

  @Field({
    description: 'http(s) URL for STREAMABLE_HTTP and SSE, ws(s) for WEBSOCKET, a command for STDIO.',
  })
  endpointUrl!: string;

  @Field(() => TransportType)
  transportType!: TransportType;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ID, {
    nullable: true,
    description: "Defaults to the caller's tenant; only admins may name another.",
  })
  tenantId?: string | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => JSONScalar, {
    nullable: true,
    description: 'Headers sent when connecting (e.g. a token): stored, never returned.',
  })
  headers?: JsonValue | null;

  @Field(() => Boolean, {
    defaultValue: true,
    description: 'Ask the server for its tools, resources and prompts; false stores the declared ones.',
  })
  discover!: boolean;

  @Field(() => Int, { nullable: true, description: 'Consecutive failures that open the circuit.' })
  failureThreshold?: number | null;

  @Field(() => [ServerToolInput], { nullable: true })
  tools?: ServerToolInput[] | null;

  @Field(() => [ServerResourceInput], { nullable: true })
  resources?: ServerResourceInput[] | null;

  @Field(() => [ServerPromptInput], { nullable: true })
  prompts?: ServerPromptInput[] | null;
}

@InputType({ description: 'Only the fields given change.' })
export class UpdateServerInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => String, { nullable: true })
  endpointUrl?: string | null;

  @Field(() => TransportType, { nullable: true })
  transportType?: TransportType | null;

  @Field(() => [String], { nullable: true })
  tags?: string[] | null;

  @Field(() => JSONScalar, {
    nullable: true,
    description:
      'Replaces the stored headers; null drops them. Needed again when endpointUrl moves to another host.',
  })
  headers?: JsonObject | null;

  @Field(() => Int, { nullable: true })
  failureThreshold?: number | null;
}

@InputType()
export class ServerFilter {
  @Field(() => ID, { nullable: true, description: 'Admins only; other keys always see their own tenant.' })
  tenantId?: string | null;

  @Field(() => [ServerStatus], { nullable: true })
  healthStatus?: ServerStatus[] | null;

  @Field(() => [TransportType], { nullable: true })
  transportType?: TransportType[] | null;

  @Field(() => String, { nullable: true, description: 'Text in the name or description.' })
  search?: string | null;

  @Field(() => [String], { nullable: true, description: 'Servers that have ALL these tools.' })
  tools?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description:
      'Each pattern must match a resource: a URI matches equal resources and templates that expand to it; ' +
      'other text matches resource URIs as a substring.',
  })
  resources?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Servers that have ALL these tags.' })
  tags?: string[] | null;
}

export enum ServerOrderField {
  NAME = 'name',
  CREATED_AT = 'createdAt',
  AVG_RESPONSE_TIME = 'avgResponseTime',
  SUCCESS_RATE = 'successRate',
}
registerEnumType(ServerOrderField, { name: 'ServerOrderField' });

@InputType()
export class ServerOrder {
  @Field(() => ServerOrderField)
  field!: ServerOrderField;

  @Field(() => OrderDirection)
  direction!: OrderDirection;
}
