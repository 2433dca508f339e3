import { Migration } from '@mikro-orm/migrations';

/** The leases of capability watch sessions: one instance watches a server for list changes at a time. */
export class Migration20261128044947 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "capability_watch_leases" ("server_id" uuid not null, "owner" varchar(255) not null, "expires_at" timestamptz(3) not null, "failures" int not null default 0, "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), constraint "capability_watch_leases_pkey" primary key ("server_id"));`,
    );

    this.addSql(
      `alter table "capability_watch_leases" add constraint "capability_watch_leases_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "capability_watch_leases" cascade;`);
  }
}
