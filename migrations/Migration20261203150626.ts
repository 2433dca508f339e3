import { Migration } from '@mikro-orm/migrations';

/**
 * Imports from MCP registries: the upstreams a tenant imports from (`registry_sources`, with their sealed headers and
 * how far they were read) and where each imported server came from (`imported_servers`).
 */
export class Migration20261203150626 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "registry_sources" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid not null, "url" text not null, "search" text not null default '', "discover" boolean not null default false, "headers" jsonb null, "synced_through" timestamptz(3) null, "last_import_at" timestamptz(3) null, "last_error" text null, "next_sync_at" timestamptz(3) not null default now(), constraint "registry_sources_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "registry_sources_next_sync_at_idx" on "registry_sources" ("next_sync_at");`);
    this.addSql(
      `alter table "registry_sources" add constraint "registry_sources_tenant_id_url_search_unique" unique ("tenant_id", "url", "search");`,
    );

    this.addSql(
      `create table "imported_servers" ("server_id" uuid not null, "source_id" uuid not null, "upstream_name" varchar(255) not null, "upstream_version" varchar(255) not null, "status" text check ("status" in ('active', 'deprecated', 'deleted', 'missing')) not null, "status_message" text null, "upstream_updated_at" timestamptz(3) null, "remote_url" text not null, "remote_type" text check ("remote_type" in ('streamable_http', 'sse', 'stdio', 'websocket')) not null, "description" text null, "required_headers" text[] not null default '{}', "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), constraint "imported_servers_pkey" primary key ("server_id"));`,
    );
    this.addSql(
      `alter table "imported_servers" add constraint "imported_servers_source_id_upstream_name_unique" unique ("source_id", "upstream_name");`,
    );

    this.addSql(
      `alter table "registry_sources" add constraint "registry_sources_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "imported_servers" add constraint "imported_servers_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "imported_servers" add constraint "imported_servers_source_id_foreign" foreign key ("source_id") references "registry_sources" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "imported_servers" drop constraint "imported_servers_source_id_foreign";`);

    this.addSql(`drop table if exists "registry_sources" cascade;`);

    this.addSql(`drop table if exists "imported_servers" cascade;`);
  }
}
