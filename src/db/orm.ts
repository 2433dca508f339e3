import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import {
  DataloaderType,
  DefaultLogger,
  type EntityClass,
  type LogContext,
  type LoggerOptions,
  MikroORM,
  type Options,
} from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { type AbstractSqlDriver, PostgreSqlDriver, type SqlEntityManager } from '@mikro-orm/postgresql';
import { PGliteDriver } from 'mikro-orm-pglite';
import { projectRoot, runningTypeScript } from '../project-root.js';

export type EntityManager = SqlEntityManager<AbstractSqlDriver>;
export type Orm = MikroORM<AbstractSqlDriver, EntityManager>;

/** Where the database lives: a PostgreSQL URL, or an embedded PGlite (on disk, or a given instance). */
export type DatabaseTarget =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string }
  | { readonly kind: 'pglite-instance'; readonly pglite: PGlite };

export interface OrmSettings {
  readonly target: DatabaseTarget;
  readonly entities: readonly EntityClass<object>[];
  /** Receives every SQL statement the ORM runs (statement counting in tests, debug logging). */
  readonly onQuery?: (sql: string) => void;
  /** Receives every statement once it has run, with its time (tracing makes a span of each). */
  readonly onStatement?: (statement: ExecutedStatement) => void;
}

/** A statement the ORM has run. */
export interface ExecutedStatement {
  /**
   * The SQL with placeholders (`?`, or `$1` when statements are logged): MikroORM inlines the values into what
   * it sends only, and logs them only with the `query-params` debug namespace, which is never enabled here.
   */
  readonly sql: string;
  readonly tookMs: number;
  readonly failed: boolean;
  /** Run by a `backgroundFork`. */
  readonly background: boolean;
}

export function buildOrmOptions(settings: OrmSettings): Options<AbstractSqlDriver> {
  const { target } = settings;
  const database: Options<AbstractSqlDriver> =
    target.kind === 'postgres'
      ? { driver: PostgreSqlDriver, clientUrl: target.url }
      : {
          driver: PGliteDriver,
          dbName: 'postgres',
          driverOptions: {
            connection: {
              pglite: () => (target.kind === 'pglite' ? openPglite(target.dataDir) : target.pglite),
            },
          },
        };
  return {
    ...database,
    entities: [...settings.entities],
    baseDir: projectRoot,
    preferTs: runningTypeScript,
    // Migrations are loaded with this module's own import(), so whatever loads the application's TypeScript
    // (the dev loader, vitest) loads them too.
    dynamicImportProvider: (id: string) => import(id),
    extensions: [Migrator],
    // Batch Reference and Collection loads across one request: no N+1 through relations.
    dataloader: DataloaderType.ALL,
    // Every unit of work runs in an explicit fork; touching the global EntityManager is a bug.
    allowGlobalContext: false,
    forceUtcTimezone: true,
    debug: settings.onQuery === undefined ? false : ['query'],
    colors: false,
    logger: settings.onQuery ?? (() => {}),
    ...(settings.onStatement !== undefined && {
      loggerFactory: (options: LoggerOptions) => new StatementLogger(options, settings.onStatement),
    }),
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: path.join(projectRoot, 'dist/migrations'),
      pathTs: path.join(projectRoot, 'migrations'),
      glob: '!(*.d).{js,ts}',
      snapshotName: '.snapshot',
      emit: 'ts',
      transactional: true,
      allOrNothing: true,
      dropTables: true,
    },
  };
}

export function initOrm(settings: OrmSettings): Promise<Orm> {
  return MikroORM.init<AbstractSqlDriver, EntityManager>(buildOrmOptions(settings));
}

/** Chooses the database from the configuration: PostgreSQL when a URL is set, embedded PGlite otherwise. */
export function databaseTarget(config: { databaseUrl: string | undefined; dataDir: string }): DatabaseTarget {
  return config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl }
    : { kind: 'pglite', dataDir: path.join(config.dataDir, 'pglite') };
}

/** An on-disk PGlite database; the directory is created on first use. */
function openPglite(dataDir: string): PGlite {
  mkdirSync(dataDir, { recursive: true });
  return createPglite(dataDir);
}

/**
 * A PGlite instance as the application needs it: on disk in `dataDir`, or in memory. Extensions the
 * migrations create (pg_trgm for text search) must be loaded when the instance is created.
 */
export function createPglite(dataDir?: string): PGlite {
  return new PGlite({ ...(dataDir === undefined ? {} : { dataDir }), extensions: { pg_trgm } });
}

/**
 * A fork for work done off the request path (batched log writes, usage timestamps). Its statements are
 * labelled `(background:<task>)` in the query log, so per-request statement counts can leave them out.
 * `em.execute` does not carry a fork's logger context: raw statements pass `backgroundContext(task)` to it.
 */
export function backgroundFork(em: EntityManager, task: string): EntityManager {
  return em.fork({ loggerContext: backgroundContext(task) });
}

/** The logger context that labels a statement as background work of `task`. */
export function backgroundContext(task: string): { readonly label: string } {
  return { label: `${BACKGROUND_LABEL}:${task}` };
}

export const BACKGROUND_LABEL = 'background';

/**
 * MikroORM's own logger, which also hands every statement to `onStatement`: the connection reports each
 * statement (transaction control included) to its logger after it ran, whatever the debug setting, in the
 * async context of the code that ran it.
 */
class StatementLogger extends DefaultLogger {
  constructor(
    options: LoggerOptions,
    private readonly onStatement: ((statement: ExecutedStatement) => void) | undefined,
  ) {
    super(options);
  }

  override logQuery(context: { query: string } & LogContext): void {
    this.onStatement?.({
      sql: context.query,
      tookMs: context.took ?? 0,
      failed: context.level === 'error',
      background: context.label?.startsWith(`${BACKGROUND_LABEL}:`) === true,
    });
    super.logQuery(context);
  }
}
