import { Migration } from '@mikro-orm/migrations';

/** Scheduled capability refresh: which servers were read (not declared), and when they last were. */
export class Migration20261128030241 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "mcp_servers" add column "capabilities_discovered" boolean not null default false, add column "capabilities_refreshed_at" timestamptz(3) null;`,
    );
    this.addSql(
      `create index "mcp_servers_capabilities_refreshed_at_idx" on "mcp_servers" ("capabilities_refreshed_at") where "capabilities_discovered";`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "mcp_servers_capabilities_refreshed_at_idx";`);
    this.addSql(
      `alter table "mcp_servers" drop column "capabilities_discovered", drop column "capabilities_refreshed_at";`,
    );
  }
}
