import { Migration } from '@mikro-orm/migrations';

/** Authentication counts wrong secrets against the key with the same prefix: an index for that lookup. */
export class Migration20261128032000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create index "api_keys_prefix_idx" on "api_keys" ("prefix");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "api_keys_prefix_idx";`);
  }
}
