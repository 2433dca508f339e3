import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { JSONScalar, type JsonValue } from '../graphql/scalars.js';
import { UpstreamStatus } from './imported-server.entity.js';

@InputType()
export class ImportRegistryServersInput {
  @Field({
    description:
      "The registry's base URL, the part before `/v0.1` (e.g. https://registry.modelcontextprotocol.io).",
  })
  url!: string;

  @Field(() => ID, {
    nullable: true,
    description: "Defaults to the caller's tenant; only admins may name another.",
  })
  tenantId?: string | null;

  @Field(() => String, { nullable: true, description: 'Sent as `search`: only entries whose name holds it.' })
  search?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'Ask each new or moved server for its tools, resources and prompts.',
  })
  discover?: boolean | null;

  @Field(() => JSONScalar, {
    nullable: true,
    description:
      'Headers the upstream registry wants (a key), stored sealed for later runs and scheduled syncs; null drops them.',
  })
  headers?: JsonValue | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description:
      'Read every entry, not only those updated since the last run; imported servers no longer listed are marked MISSING.',
  })
  full?: boolean | null;
}

@ObjectType({ description: 'An upstream entry and what the import did not do with it, or why.' })
export class RegistryImportNote {
  @Field()
  name!: string;

  @Field()
  reason!: string;
}

@ObjectType()
export class RegistryImportResult {
  @Field(() => ID, { description: 'The import source (tenant, url, search) the run read.' })
  sourceId!: string;

  @Field(() => Int)
  created!: number;

  @Field(() => Int)
  updated!: number;

  @Field(() => Int)
  unchanged!: number;

  @Field(() => Int, {
    description: 'Imported servers now deprecated, deleted or missing upstream (marked, kept).',
  })
  markedUpstream!: number;

  @Field(() => [RegistryImportNote])
  skipped!: RegistryImportNote[];

  @Field(() => [RegistryImportNote], {
    description: 'Imported without asking the server for its capabilities (discover: true), and why.',
  })
  notDiscovered!: RegistryImportNote[];

  @Field(() => Date, { nullable: true, description: 'The `updated_since` sent; null for a full listing.' })
  since!: Date | null;
}

@ObjectType({ description: 'Where an imported server came from, and what its upstream entry says.' })
export class ServerUpstream {
  @Field({ description: "The registry's base URL." })
  registryUrl!: string;

  @Field({ description: "The entry's server.json name." })
  name!: string;

  @Field()
  version!: string;

  @Field(() => UpstreamStatus)
  status!: UpstreamStatus;

  @Field(() => String, { nullable: true })
  statusMessage!: string | null;

  @Field(() => Date, { nullable: true })
  updatedAt!: Date | null;

  @Field(() => [String], { description: 'Header names the entry requires.' })
  requiredHeaders!: string[];
}
