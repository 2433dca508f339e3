import { Migration } from '@mikro-orm/migrations';

/** The server list's default order (by name, then id) read from an index: a page of 100 is 100 rows, not a sort. */
export class Migration20261203161501 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "mcp_servers_name_id_idx" on "mcp_servers" ("name", "id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index if exists "mcp_servers_name_id_idx";`);
  }
}
