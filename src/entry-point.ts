import { pino } from 'pino';
import { type AppConfig, ConfigError, loadConfig } from './config.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import { ApiError } from './graphql/errors.js';
import { createLogger, type Logger } from './logger.js';
import { startTracing } from './observability/tracing.js';

// Every process the project starts (server, worker, CLI, migrations, seed) begins and ends here: configuration
// read once, one logger, its database opened through openDatabase (the embedded lock included), and errors
// reported as one line on stderr with exit code 1, the same for each.

export interface EntryContext {
  readonly config: AppConfig;
  readonly log: Logger;
}

/** A mistake in how a command was called or what it was given: its message is all the user needs. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** What a service returns once it runs: closing it drains its work and closes what it opened. */
export interface RunningService {
  close(): Promise<void>;
}

/**
 * A one-shot command (CLI, migrations, seed): runs `work`, then exits 0, or 1 with one line on stderr. Its
 * logs go to stderr, so that stdout carries only what the command prints (an id, a key) for scripts.
 */
export function runCommand(work: (context: EntryContext) => Promise<void>): void {
  start(pino.destination({ dest: 2, sync: true }))
    .then((context) => work(context))
    .then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => fail(error),
    );
}

/** How long a service may take to drain and close before it is ended anyway (exit 1). */
const STOP_DEADLINE_MS = 30_000;

/**
 * A long-running service (server, worker): `start` brings it up; SIGTERM or SIGINT drain and close it, log
 * `stopped` and exit 0. Further signals while it stops change nothing: Ctrl-C on `npm start` reaches the
 * process twice (from the terminal, and forwarded by npm), and cutting the drain short would leave the embedded
 * database unclosed. A stop that takes longer than STOP_DEADLINE_MS ends the process with 1.
 */
export function runService(
  name: string,
  startService: (context: EntryContext) => Promise<RunningService>,
): void {
  start()
    .then(async (context) => {
      const { config, log } = context;
      // Before the service starts, so its first request already finds the provider and propagator in place.
      const tracing = startTracing(config.tracing, name, log);
      const service = await startService(context);
      let stopping = false;
      const stop = (signal: NodeJS.Signals) => {
        if (stopping) {
          log.debug({ process: name, signal }, 'already stopping');
          return;
        }
        stopping = true;
        log.info({ process: name, signal }, 'stopping: draining requests and closing connections');
        setTimeout(() => {
          log.error({ process: name, deadlineMs: STOP_DEADLINE_MS }, 'did not stop in time: exiting');
          process.exit(1);
        }, STOP_DEADLINE_MS).unref();
        service
          .close()
          .then(() =>
            tracing
              ?.shutdown()
              .catch((error: unknown) => log.warn({ err: error }, 'traces not all exported')),
          )
          .then(
            () => {
              log.info({ process: name }, 'stopped');
              process.exit(0);
            },
            (error: unknown) => {
              log.error({ process: name, err: error }, 'error while stopping');
              process.exit(1);
            },
          );
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((error: unknown) => fail(error, `${name} failed to start`));
}

async function start(destination?: pino.DestinationStream): Promise<EntryContext> {
  const config = loadConfig();
  return { config, log: createLogger(config.logLevel, destination) };
}

/** One line on stderr: the message for errors meant for the user, a short summary for anything else. */
function fail(error: unknown, context = 'failed'): void {
  if (error instanceof ConfigError) console.error(`Invalid configuration: ${error.message}`);
  else if (
    error instanceof CommandError ||
    error instanceof DataDirLockedError ||
    error instanceof ApiError
  ) {
    console.error(error.message);
  } else console.error(`${context}: ${error instanceof Error ? error.message : String(error)}`);
  // Exit at once: a half-started service may hold timers or sockets that would keep the process alive.
  process.exit(1);
}
