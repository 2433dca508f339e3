import { Field, Float, ObjectType } from 'type-graphql';
import { MCPServer } from '../registry/mcp-server.entity.js';
import type { ServerRow, ServerToolRow } from '../registry/registry.loaders.js';
import { ServerTool } from '../registry/server-tool.entity.js';

@ObjectType({
  simpleResolvers: true,
  description: 'A tool that matches a search, with the server offering it.',
})
export class ToolSearchHit {
  @Field(() => Float, {
    description:
      'The rank: how well name and description match the words (a word in the name counts more), from 0 to 1; ' +
      'hits come best first, equal scores in a fixed order.',
  })
  score!: number;

  @Field(() => ServerTool)
  tool!: ServerToolRow;

  @Field(() => MCPServer)
  server!: ServerRow;
}
