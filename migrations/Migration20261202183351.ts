import { Migration } from '@mikro-orm/migrations';

export class Migration20261202183351 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "virtual_servers" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid not null, "name" varchar(255) not null, "description" text null, "tool_naming" text check ("tool_naming" in ('prefixed', 'on_conflict', 'as_is')) not null default 'prefixed', "is_active" boolean not null default true, constraint "virtual_servers_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "virtual_servers_tenant_id_name_idx" on "virtual_servers" ("tenant_id", "name");`,
    );

    this.addSql(
      `create table "virtual_server_members" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "virtual_server_id" uuid not null, "server_id" uuid not null, "position" int not null, "tool_names" jsonb null, "prefix" varchar(64) not null, "overrides" jsonb not null default '[]', constraint "virtual_server_members_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "virtual_server_members_server_id_idx" on "virtual_server_members" ("server_id");`,
    );
    this.addSql(
      `alter table "virtual_server_members" add constraint "virtual_server_members_virtual_server_id_server_id_unique" unique ("virtual_server_id", "server_id");`,
    );

    this.addSql(
      `alter table "virtual_servers" add constraint "virtual_servers_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "virtual_server_members" add constraint "virtual_server_members_virtual_server_id_foreign" foreign key ("virtual_server_id") references "virtual_servers" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "virtual_server_members" add constraint "virtual_server_members_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(
      `alter table "virtual_server_members" drop constraint "virtual_server_members_virtual_server_id_foreign";`,
    );

    this.addSql(`drop table if exists "virtual_servers" cascade;`);

    this.addSql(`drop table if exists "virtual_server_members" cascade;`);
  }
}
