import { backgroundContext, backgroundFork, type Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';

// The figures every tool call through the gateway moves (a server's open connections, the tool's call counts
// and mean time, the breaker's success count) are written behind the calls: summed in this process and
// written every `flushIntervalMs` in one statement per table, however many calls there were. A call then
// waits for no write of its own, and concurrent calls on one row never queue on its lock. What changes a
// breaker's state (a failure, a success on trial) is not written here: it is applied at once, in a
// transaction (probe-recorder.ts).

export interface CallFiguresOptions {
  readonly orm: Orm;
  readonly log?: Pick<Logger, 'warn'>;
  readonly flushIntervalMs?: number;
}

interface ToolFigures {
  calls: number;
  successes: number;
  totalMs: number;
}

interface BreakerSuccesses {
  count: number;
  lastAt: Date;
}

const KEY_SEPARATOR = '\u0000';
const TASK = 'call-figures';

export class CallFigures {
  /** Net change of each server's open connections from this process, not written yet. */
  private connections = new Map<string, number>();
  private tools = new Map<string, ToolFigures>();
  private breakers = new Map<string, BreakerSuccesses>();
  private readonly timer: NodeJS.Timeout;
  /** Writes go one after another: a flush runs once those before it are done. */
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly options: CallFiguresOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 500);
    this.timer.unref();
  }

  /** A call to the server starts (`+1`) or ends (`-1`). */
  connectionChanged(serverId: string, delta: 1 | -1): void {
    this.connections.set(serverId, (this.connections.get(serverId) ?? 0) + delta);
  }

  /**
   * The server's open connections as the fleet's count read from the database shows them plus what this
   * process has opened or closed since it last wrote: routing by least connections sees its own calls at once.
   */
  activeConnections(serverId: string, stored: number): number {
    return Math.max(0, stored + (this.connections.get(serverId) ?? 0));
  }

  /** One call of the tool on the server ended; a call the server did not answer or an `isError` is an error. */
  toolCalled(serverId: string, toolName: string, call: { succeeded: boolean; durationMs: number }): void {
    const key = `${serverId}${KEY_SEPARATOR}${toolName}`;
    const figures = this.tools.get(key) ?? { calls: 0, successes: 0, totalMs: 0 };
    figures.calls += 1;
    figures.successes += call.succeeded ? 1 : 0;
    figures.totalMs += call.durationMs;
    this.tools.set(key, figures);
  }

  /**
   * An answered call on a server whose breaker was CLOSED with no failure counted: a success that can move no
   * state. Written as counts; the consecutive failures go back to 0 unless a failure came after it.
   */
  breakerSucceeded(serverId: string, at: Date): void {
    const successes = this.breakers.get(serverId);
    if (successes === undefined) this.breakers.set(serverId, { count: 1, lastAt: at });
    else {
      successes.count += 1;
      if (at > successes.lastAt) successes.lastAt = at;
    }
  }

  /** Writes everything summed so far. Never rejects: a failed write is logged and its figures dropped. */
  flush(): Promise<void> {
    this.writing = this.writing.then(() => this.write());
    return this.writing;
  }

  /** Stops the timer and writes what is left (at shutdown, after the last call ended). Safe to call twice. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    const connections = [...this.connections].filter(([, delta]) => delta !== 0);
    const tools = [...this.tools];
    const breakers = [...this.breakers];
    this.connections = new Map();
    this.tools = new Map();
    this.breakers = new Map();
    if (connections.length === 0 && tools.length === 0 && breakers.length === 0) return;
    const em = backgroundFork(this.options.orm.em, TASK);
    if (connections.length > 0) {
      try {
        await em.execute(
          `update mcp_servers m set active_connections = greatest(m.active_connections + v.delta, 0)
           from json_to_recordset(?::json) as v(id uuid, delta integer) where m.id = v.id`,
          [JSON.stringify(connections.map(([id, delta]) => ({ id, delta })))],
          'run',
          backgroundContext(TASK),
        );
      } catch (error) {
        // Kept for the next write: a lost -1 would leave the count high for good.
        for (const [id, delta] of connections)
          this.connections.set(id, (this.connections.get(id) ?? 0) + delta);
        this.warn(error, 'open connections');
      }
    }
    try {
      if (tools.length > 0) {
        // The exact running mean over every counted call: (mean × calls + the new calls' time) / all calls.
        await em.execute(
          `update server_tools t set
             total_calls = t.total_calls + v.calls,
             success_count = t.success_count + v.successes,
             error_count = t.error_count + (v.calls - v.successes),
             avg_execution_time = case
               when t.avg_execution_time is null then v.total_ms / v.calls
               else (t.avg_execution_time * t.total_calls + v.total_ms) / (t.total_calls + v.calls)
             end,
             updated_at = now()
           from json_to_recordset(?::json) as v(server_id uuid, name text, calls integer, successes integer, total_ms double precision)
           where t.server_id = v.server_id and t.name = v.name`,
          [
            JSON.stringify(
              tools.map(([key, figures]) => {
                const [serverId, name] = key.split(KEY_SEPARATOR);
                return {
                  server_id: serverId,
                  name,
                  calls: figures.calls,
                  successes: figures.successes,
                  total_ms: figures.totalMs,
                };
              }),
            ),
          ],
          'run',
          backgroundContext(TASK),
        );
      }
      if (breakers.length > 0) {
        await em.execute(
          `update circuit_breakers b set
             total_requests = b.total_requests + v.count,
             total_successes = b.total_successes + v.count,
             last_success_at = greatest(b.last_success_at, v.last_at),
             failure_count = case
               when b.state = 'closed' and (b.last_failure_at is null or b.last_failure_at <= v.last_at) then 0
               else b.failure_count
             end,
             updated_at = now()
           from json_to_recordset(?::json) as v(server_id uuid, count integer, last_at timestamptz)
           where b.server_id = v.server_id`,
          [
            JSON.stringify(
              breakers.map(([serverId, successes]) => ({
                server_id: serverId,
                count: successes.count,
                last_at: successes.lastAt.toISOString(),
              })),
            ),
          ],
          'run',
          backgroundContext(TASK),
        );
      }
    } catch (error) {
      this.warn(error, 'tool and breaker counts');
    }
  }

  private warn(error: unknown, what: string): void {
    this.options.log?.warn({ err: error }, `tool call figures (${what}) could not be written`);
  }
}
