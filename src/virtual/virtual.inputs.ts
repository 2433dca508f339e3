import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { JSONScalar, type JsonValue } from '../graphql/scalars.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { ToolNaming } from './virtual.enums.js';

@InputType({ description: 'Renames or re-describes one upstream tool for agents.' })
export class ToolOverrideInput {
  @Field({ description: "The upstream tool's own name." })
  toolName!: string;

  @Field(() => String, { nullable: true, description: 'The name agents see instead of the naming mode’s.' })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;
}

@InputType()
export class VirtualServerMemberInput {
  @Field(() => ID)
  serverId!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Only these tools; every tool of the server (now and after later discoveries) when absent.',
  })
  toolNames?: string[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      "What `{prefix}__{tool}` names start with; the server's name made into a valid one by default.",
  })
  prefix?: string | null;

  @Field(() => [ToolOverrideInput], { nullable: true })
  overrides?: ToolOverrideInput[] | null;
}

@InputType()
export class CreateVirtualServerInput {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => ID, { nullable: true, description: "The caller's tenant unless a platform admin names one." })
  tenantId?: string | null;

  // No SDL default: the subgraph schema is rebuilt from printed SDL, where an enum default keeps its name
  // (`PREFIXED`) instead of its value, so the service applies it.
  @Field(() => ToolNaming, { nullable: true, description: 'PREFIXED unless given.' })
  toolNaming?: ToolNaming | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  isActive?: boolean | null;

  @Field(() => [VirtualServerMemberInput])
  members!: VirtualServerMemberInput[];
}

@InputType()
export class UpdateVirtualServerInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true })
  isActive?: boolean | null;

  @Field(() => ToolNaming, { nullable: true })
  toolNaming?: ToolNaming | null;

  @Field(() => [VirtualServerMemberInput], { nullable: true, description: 'Replaces every member.' })
  members?: VirtualServerMemberInput[] | null;
}

@ObjectType({ simpleResolvers: true, description: 'A registered server in a virtual server.' })
export class VirtualServerMemberView {
  @Field(() => MCPServer)
  server!: MCPServer;

  @Field(() => [String], { nullable: true, description: 'The tools offered; null for all of them.' })
  toolNames!: string[] | null;

  @Field()
  prefix!: string;
}

@ObjectType({
  simpleResolvers: true,
  description: 'A tool as an agent connected to the virtual server sees it, and where calls go.',
})
export class VirtualTool {
  @Field({ description: 'The name agents see.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field({ description: "The upstream tool's own name." })
  toolName!: string;

  @Field(() => MCPServer)
  server!: MCPServer;

  @Field(() => JSONScalar, { nullable: true })
  toolSchema!: JsonValue | null;
}
