import { Migration } from '@mikro-orm/migrations';

export class Migration20261202202440 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "agent_sessions" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "virtual_server_id" uuid not null, "api_key_id" uuid not null, "protocol_version" varchar(32) not null, "client_name" varchar(255) null, "last_seen_at" timestamptz(3) not null default now(), constraint "agent_sessions_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "agent_sessions_virtual_server_id_idx" on "agent_sessions" ("virtual_server_id");`,
    );
    this.addSql(`create index "agent_sessions_api_key_id_idx" on "agent_sessions" ("api_key_id");`);
    this.addSql(`create index "agent_sessions_last_seen_at_idx" on "agent_sessions" ("last_seen_at");`);

    this.addSql(
      `alter table "agent_sessions" add constraint "agent_sessions_virtual_server_id_foreign" foreign key ("virtual_server_id") references "virtual_servers" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "agent_sessions" add constraint "agent_sessions_api_key_id_foreign" foreign key ("api_key_id") references "api_keys" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "agent_sessions" cascade;`);
  }
}
