import { Migration } from '@mikro-orm/migrations';

/** Health checking: status hysteresis counters, the probe schedule that instances claim, event versions. */
export class Migration20261128022742 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "mcp_servers" add column "consecutive_failures" int not null default 0, add column "consecutive_successes" int not null default 0, add column "next_check_at" timestamptz(3) not null default now(), add column "event_version" int not null default 0;`,
    );
    this.addSql(
      `create index "mcp_servers_next_check_at_idx" on "mcp_servers" ("next_check_at") where "health_status" <> 'maintenance';`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "mcp_servers_next_check_at_idx";`);
    this.addSql(
      `alter table "mcp_servers" drop column "consecutive_failures", drop column "consecutive_successes", drop column "next_check_at", drop column "event_version";`,
    );
  }
}
