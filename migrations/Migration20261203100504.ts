import { Migration } from '@mikro-orm/migrations';

/**
 * The versions servers announced of themselves (`serverInfo.version`), so the Registry API keeps listing an old
 * version when a new one is discovered. Filled from what servers announce now.
 */
export class Migration20261203100504 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "server_versions" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "version" varchar(255) not null, "title" text null, "description" text null, constraint "server_versions_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "server_versions_updated_at_id_idx" on "server_versions" ("updated_at", "id");`,
    );
    this.addSql(
      `alter table "server_versions" add constraint "server_versions_server_id_version_unique" unique ("server_id", "version");`,
    );
    this.addSql(
      `alter table "server_versions" add constraint "server_versions_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `insert into "server_versions" ("server_id", "version", "title", "description")
       select "id", left("server_info"->>'version', 255), "server_info"->>'title', "description"
       from "mcp_servers" where coalesce("server_info"->>'version', '') <> '';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "server_versions" cascade;`);
  }
}
