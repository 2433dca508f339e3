import { Migration } from '@mikro-orm/migrations';

/** Request logs name who called: the signed-in user (or the user a key was issued to), beside the key. */
export class Migration20261203153241 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "request_logs" add column "user_id" uuid null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "request_logs" drop column if exists "user_id";`);
  }
}
