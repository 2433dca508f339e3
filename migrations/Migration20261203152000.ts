import { Migration } from '@mikro-orm/migrations';

const LISTED_TABLES = ['mcp_servers', 'server_versions', 'virtual_servers'];

/**
 * Change stamps the Registry API can be resumed from (`updated_since`, page cursors: src/registry-api/).
 *
 * A row's `updated_at` was the application's clock when it changed, and a transaction can commit long after
 * that: a reader that saw a later change first, and a client resuming from that later time, never saw the row.
 * Now the database stamps every insert, and every update that moves `updated_at`, with its own clock (one clock
 * for every API instance), after making sure the writing transaction has its id. `registry_change_horizon()`
 * is the time before which no stamp can still appear: its own clock, or the start of the oldest transaction of
 * this database that holds an id (has written) and has not ended, whichever is earlier. A transaction that
 * gets its id after the horizon was read stamps later than the horizon. The API lists only rows stamped before
 * the horizon, read in a statement before the rows (see registry-api.service.ts), so any row it has not listed
 * yet gets a later stamp than every row it listed.
 */
export class Migration20261203152000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create function registry_change_stamp() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' or new.updated_at is distinct from old.updated_at then
    -- The transaction id first: a horizon read before it exists was read before this clock.
    perform pg_current_xact_id();
    new.updated_at := clock_timestamp();
  end if;
  return new;
end
$$;`,
    );
    // Milliseconds down, as updated_at is stored (rounded to the nearest): every stamp taken at or after the
    // horizon is stored at or after the truncated horizon.
    this.addSql(
      `create function registry_change_horizon() returns timestamptz language plpgsql volatile as $$
declare
  now_at timestamptz := clock_timestamp();
  oldest timestamptz;
begin
  perform pg_stat_clear_snapshot();
  select min(a.xact_start) into oldest from pg_stat_activity a
  where a.datname = current_database() and a.backend_type = 'client backend'
    and a.backend_xid is not null and a.pid <> pg_backend_pid();
  return date_trunc('milliseconds', least(now_at, oldest));
end
$$;`,
    );
    for (const table of LISTED_TABLES) {
      this.addSql(
        `create trigger "${table}_change_stamp" before insert or update on "${table}" for each row execute function registry_change_stamp();`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of LISTED_TABLES) {
      this.addSql(`drop trigger "${table}_change_stamp" on "${table}";`);
    }
    this.addSql('drop function registry_change_horizon();');
    this.addSql('drop function registry_change_stamp();');
  }
}
