import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initOrm, type Orm } from '../src/db/orm.js';
import { entities } from '../src/entities.js';
import { APPLICATION_TABLES, createTestDatabase, type TestDatabase } from './support/database.js';

const MIGRATIONS_TABLE = 'mikro_orm_migrations';

const APPLICATION_FUNCTIONS = [
  'get_request_performance_summary',
  'get_server_health_summary',
  'get_tenant_usage_summary',
  'registry_change_horizon',
  'registry_change_stamp',
  'search_document',
  'search_vocabulary_add_row',
  'search_vocabulary_add_rows',
  'search_vocabulary_words',
  'search_words',
];
/** Extensions the migrations create (PL/pgSQL comes with every database). */
const APPLICATION_EXTENSIONS = ['pg_trgm'];
const APPLICATION_VIEWS = ['database_size_summary', 'index_usage_summary', 'performance_monitoring'];

const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../migrations');
const migrationNames = readdirSync(migrationsDir)
  .filter((file) => /^Migration\d+\.ts$/.test(file))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

interface ColumnRow {
  table_name: string;
  relkind: string;
  column_name: string;
  type: string;
  not_null: boolean;
  default_value: string | null;
}
interface IndexRow {
  table_name: string;
  index_name: string;
  definition: string;
}
interface ConstraintRow {
  table_name: string;
  constraint_name: string;
  type: string;
  definition: string;
}
interface FunctionRow {
  name: string;
  arguments: string;
  result: string;
  definition: string;
}
interface ViewRow {
  name: string;
  definition: string;
}
interface ExtensionRow {
  name: string;
}

/** Everything the migrations create in the current schema, as the catalog describes it. */
interface SchemaSignature {
  columns: ColumnRow[];
  indexes: IndexRow[];
  constraints: ConstraintRow[];
  functions: FunctionRow[];
  views: ViewRow[];
  extensions: ExtensionRow[];
}

function query<T>(orm: Orm, sql: string): Promise<T[]> {
  return orm.em.fork().execute<T[]>(sql);
}

async function schemaSignature(orm: Orm): Promise<SchemaSignature> {
  const [columns, indexes, constraints, functions, views, extensions] = await Promise.all([
    query<ColumnRow>(
      orm,
      `select c.relname::text as table_name, c.relkind::text as relkind, a.attname::text as column_name,
              format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
              pg_get_expr(d.adbin, d.adrelid) as default_value
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
       left join pg_attrdef d on d.adrelid = c.oid and d.adnum = a.attnum
       where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')
         and c.relname <> '${MIGRATIONS_TABLE}'
       order by c.relname, a.attnum`,
    ),
    query<IndexRow>(
      orm,
      `select tablename::text as table_name, indexname::text as index_name, indexdef as definition
       from pg_indexes
       where schemaname = current_schema() and tablename <> '${MIGRATIONS_TABLE}'
       order by tablename, indexname`,
    ),
    query<ConstraintRow>(
      orm,
      `select c.relname::text as table_name, k.conname::text as constraint_name, k.contype::text as type,
              pg_get_constraintdef(k.oid) as definition
       from pg_constraint k
       join pg_class c on c.oid = k.conrelid
       join pg_namespace n on n.oid = k.connamespace
       where n.nspname = current_schema() and c.relname <> '${MIGRATIONS_TABLE}'
       order by c.relname, k.conname`,
    ),
    query<FunctionRow>(
      orm,
      `select p.proname::text as name, pg_get_function_identity_arguments(p.oid) as arguments,
              pg_get_function_result(p.oid) as result, pg_get_functiondef(p.oid) as definition
       from pg_proc p
       join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = current_schema() and p.prokind = 'f'
         -- an extension's own functions come and go with the extension (listed under extensions)
         and not exists (select 1 from pg_depend d
                         where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
       order by p.proname, arguments`,
    ),
    query<ViewRow>(
      orm,
      `select viewname::text as name, pg_get_viewdef(format('%I.%I', schemaname, viewname)::regclass) as definition
       from pg_views
       where schemaname = current_schema()
       order by viewname`,
    ),
    query<ExtensionRow>(
      orm,
      `select extname::text as name from pg_extension where extname <> 'plpgsql' order by extname`,
    ),
  ]);
  return { columns, indexes, constraints, functions, views, extensions };
}

function tableNames(signature: SchemaSignature): string[] {
  const tables = signature.columns
    .filter((column) => column.relkind === 'r')
    .map((column) => column.table_name);
  return [...new Set(tables)].sort();
}

/** Relations of any kind (tables, indexes, sequences, views) other than the migrator's own. */
async function leftoverRelations(orm: Orm): Promise<string[]> {
  const rows = await query<{ name: string }>(
    orm,
    `select c.relname::text as name
     from pg_class c
     join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = current_schema() and c.relname not like '${MIGRATIONS_TABLE}%'
     order by c.relname`,
  );
  return rows.map((row) => row.name);
}

function describeMigrations(createDatabase: () => Promise<TestDatabase>): void {
  let db: TestDatabase;
  let orm: Orm;
  let firstSignature: SchemaSignature;

  beforeAll(async () => {
    db = await createDatabase();
    orm = await initOrm({ target: db.target, entities });
  });

  afterAll(async () => {
    await orm?.close(true);
    await db?.drop();
  });

  it('applies every migration in migrations/', async () => {
    const applied = await orm.getMigrator().up();
    expect(applied.map((migration) => migration.name)).toEqual(migrationNames);
    expect(await orm.getMigrator().getPendingMigrations()).toEqual([]);
    firstSignature = await schemaSignature(orm);
  });

  it('leaves nothing between the entity metadata and the migrated schema', async () => {
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('creates the application tables, functions and views', () => {
    expect(tableNames(firstSignature)).toEqual(APPLICATION_TABLES);
    expect([...new Set(firstSignature.functions.map((fn) => fn.name))]).toEqual(APPLICATION_FUNCTIONS);
    expect(firstSignature.views.map((view) => view.name)).toEqual(APPLICATION_VIEWS);
    expect(firstSignature.extensions.map((extension) => extension.name)).toEqual(APPLICATION_EXTENSIONS);
    expect(firstSignature.constraints).toContainEqual({
      table_name: 'circuit_breakers',
      constraint_name: 'circuit_breakers_server_id_foreign',
      type: 'f',
      definition: 'FOREIGN KEY (server_id) REFERENCES mcp_servers(id) ON UPDATE CASCADE ON DELETE CASCADE',
    });
  });

  it('creates mcp_servers_discovery_idx as a partial index', () => {
    const index = firstSignature.indexes.find((row) => row.index_name === 'mcp_servers_discovery_idx');
    expect(index?.table_name).toBe('mcp_servers');
    expect(index?.definition).toMatch(/ WHERE .*health_status/);
  });

  it('reverts everything with down({ to: 0 })', async () => {
    await orm.getMigrator().down({ to: 0 });
    expect(await orm.getMigrator().getExecutedMigrations()).toEqual([]);
    expect(await schemaSignature(orm)).toEqual({
      columns: [],
      indexes: [],
      constraints: [],
      functions: [],
      views: [],
      extensions: [],
    });
    expect(await leftoverRelations(orm)).toEqual([]);
  });

  it('rebuilds the identical schema when applied again', async () => {
    await orm.getMigrator().up();
    expect(await schemaSignature(orm)).toEqual(firstSignature);
  });
}

// On the project's database: PostgreSQL in one vitest project, PGlite in the other.
describe('migrations', () => {
  describeMigrations(createTestDatabase);
});
