import type { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { CommandLineError, parseCommandLine } from './command-line.js';
import type { Deadline } from './deadline.js';
import { McpInspectionError, type WireTrace } from './probe-outcome.js';

const STDERR_TAIL_LENGTH = 300;
/** How long a child gets to exit after SIGTERM, then after SIGKILL. */
const KILL_GRACE_MS = 500;
/** How long closing may wait for the SDK's own cleanup (its version probe's sibling process) after that. */
const CLEANUP_GRACE_MS = 2_000;

/**
 * The process of a STDIO server for one session: the SDK transport spawns the stored command line (split
 * into words, never given to a shell), and this watches it for classification and makes sure it ends.
 */
export class StdioChild {
  readonly transport: StdioClientTransport;
  private readonly closed: Promise<void>;
  private pid: number | null = null;

  constructor(commandLine: string, trace: WireTrace) {
    let words: [string, ...string[]];
    try {
      words = parseCommandLine(commandLine);
    } catch (error) {
      if (!(error instanceof CommandLineError)) throw error;
      throw new McpInspectionError('unreachable', `could not start: ${error.message}`, { cause: error });
    }
    const [command, ...args] = words;
    // No `env`: the child gets the SDK's short list of safe variables (PATH, HOME, ...), never the
    // registry's own secrets. The stored headers are HTTP headers: nothing of them is passed to a command.
    this.transport = new StdioClientTransport({ command, args, stderr: 'pipe' });
    // Drained as it comes (a child blocked on a full stderr pipe would look hung), only its end is kept,
    // and only for error messages: a chatty server's stderr never reaches the registry's logs.
    this.transport.stderr?.on('data', (chunk: Buffer) => {
      trace.stderrTail = `${trace.stderrTail ?? ''}${chunk.toString('utf8')}`.slice(-STDERR_TAIL_LENGTH);
    });
    // The transport forgets its child (and the pid) as soon as anyone closes it, before the child has exited,
    // as the client does when a handshake fails: remembered here, so that `close()` can wait for the exit.
    const start = this.transport.start.bind(this.transport);
    this.transport.start = async () => {
      await start();
      this.pid = this.transport.pid;
    };
    // Set before connect: the client chains these handlers instead of replacing them.
    this.closed = new Promise((resolve) => {
      this.transport.onclose = () => {
        trace.exited = true;
        resolve();
      };
    });
    this.transport.onerror = (error) => {
      // Node's errors (spawn, pipes) carry a code; what the transport fails to parse from stdout does not.
      if ((error as NodeJS.ErrnoException).code === undefined) trace.invalidOutput = true;
    };
  }

  /**
   * Ends the session and the child. Closing the client ends the child's stdin, which tells a STDIO server
   * to exit; the SDK would then wait 2 s before SIGTERM and 2 s more before SIGKILL, so a child still
   * running at the deadline is signalled here instead. `connecting` (the client's connect, possibly still
   * probing the protocol version on a short-lived sibling process the SDK spawns and reaps) is awaited too,
   * so no process of this session outlives the call.
   */
  async close(client: Client, connecting: Promise<void> | undefined, deadline: Deadline): Promise<void> {
    const { pid } = this;
    const closing = Promise.allSettled([client.close(), this.transport.close()]);
    if (pid !== null && !(await settlesWithin(this.closed, deadline.remainingMs()))) {
      for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
        signalProcess(pid, signal);
        if (await settlesWithin(this.closed, KILL_GRACE_MS)) break;
      }
    }
    await settlesWithin(Promise.allSettled([closing, connecting]), CLEANUP_GRACE_MS);
  }
}

// The transport keeps its ChildProcess to itself, hence the pid. A child whose 'close' event has not fired
// is still running, or exited a moment ago while a process of its own holds its pipes: a pid is not reused
// that fast. Such grandchildren are out of reach (the SDK spawns the child in the registry's process group).
function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    const settle = () => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settle, settle);
  });
}
