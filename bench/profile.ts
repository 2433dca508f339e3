import WebSocket from 'ws';

/** V8's CPU profile (the `.cpuprofile` format Chrome DevTools opens). */
export interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  }[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time. */
  readonly share: number;
}

export interface ProfileSummary {
  readonly seconds: number;
  /** Share of the profile the process was busy (not waiting in the event loop). */
  readonly busyShare: number;
  readonly topFunctions: readonly SelfTime[];
  /** Self time by where the code lives: a package, the application's own folders, Node, GC. */
  readonly byOrigin: readonly SelfTime[];
}

/** Talks to a process's inspector (Chrome DevTools Protocol): here only to start and stop the profiler. */
export class Inspector {
  private nextId = 1;
  private readonly pending = new Map<number, (result: unknown) => void>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as {
        id?: number;
        result?: unknown;
        error?: { message: string };
      };
      if (message.id === undefined) return;
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message.error ? new Error(message.error.message) : message.result);
    });
  }

  static async connect(url: string): Promise<Inspector> {
    const socket = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new Inspector(socket);
  }

  async send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    const result = await new Promise<unknown>((resolve) => {
      this.pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
    if (result instanceof Error) throw result;
    return result as T;
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The V8 heap the process behind `inspectorUrl` still uses after a full garbage collection: what it retains,
 * unlike its resident memory, which V8 keeps after a peak.
 */
export async function retainedHeapBytes(inspectorUrl: string): Promise<number> {
  const inspector = await Inspector.connect(inspectorUrl);
  try {
    await inspector.send('HeapProfiler.collectGarbage');
    const { result } = await inspector.send<{ result: { value: number } }>('Runtime.evaluate', {
      expression: 'process.memoryUsage().heapUsed',
      returnByValue: true,
    });
    return result.value;
  } finally {
    inspector.close();
  }
}

/**
 * Starts recording the event-loop delay of the process behind `inspectorUrl` (perf_hooks'
 * monitorEventLoopDelay at 1 ms resolution, inside that process); `stop` reads its distribution in ms.
 */
export async function recordEventLoopDelay(
  inspectorUrl: string,
): Promise<{ stop(): Promise<EventLoopDelay> }> {
  const inspector = await Inspector.connect(inspectorUrl);
  const evaluate = async <T>(expression: string): Promise<T> => {
    const { result } = await inspector.send<{ result: { value: T } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
    });
    return result.value;
  };
  await evaluate(
    "globalThis.__benchLoopDelay = process.getBuiltinModule('node:perf_hooks').monitorEventLoopDelay({ resolution: 1 }); globalThis.__benchLoopDelay.enable(); true",
  );
  return {
    async stop() {
      try {
        return await evaluate<EventLoopDelay>(
          '(() => { const h = globalThis.__benchLoopDelay; h.disable(); delete globalThis.__benchLoopDelay; ' +
            'return { p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 }; })()',
        );
      } finally {
        inspector.close();
      }
    },
  };
}

/** How late the event loop ran its timers, in ms (its resolution, 1 ms, included). */
export interface EventLoopDelay {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

/** Profiles the process behind `inspectorUrl` while `work` runs (startup excluded). */
export async function profileWhile(inspectorUrl: string, work: () => Promise<void>): Promise<CpuProfile> {
  const inspector = await Inspector.connect(inspectorUrl);
  try {
    await inspector.send('Profiler.enable');
    await inspector.send('Profiler.setSamplingInterval', { interval: 1000 });
    await inspector.send('Profiler.start');
    await work();
    const { profile } = await inspector.send<{ profile: CpuProfile }>('Profiler.stop');
    return profile;
  } finally {
    inspector.close();
  }
}

const TOP = 25;

/** Self time per function and per origin, busiest first. */
export function summariseProfile(profile: CpuProfile, projectRoot: string): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const origins = new Map<string, number>();
  let idle = 0;
  let total = 0;
  profile.samples.forEach((id, index) => {
    const micros = profile.timeDeltas[index] ?? 0;
    total += micros;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    if (frame.functionName === '(idle)') {
      idle += micros;
      return;
    }
    const where = locationOf(frame.url, projectRoot);
    const name = `${frame.functionName || '(anonymous)'}${where ? ` ${where}:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + micros);
    const origin = originOf(frame.functionName, frame.url, projectRoot);
    origins.set(origin, (origins.get(origin) ?? 0) + micros);
  });
  const busy = total - idle;
  const ranked = (times: Map<string, number>, limit: number) =>
    [...times]
      .sort((a, b) => b[1] - a[1])
      .slice(0, limit)
      .map(([name, micros]) => ({ name, ms: micros / 1000, share: busy > 0 ? micros / busy : 0 }));
  return {
    seconds: total / 1e6,
    busyShare: total > 0 ? busy / total : 0,
    topFunctions: ranked(functions, TOP),
    byOrigin: ranked(origins, TOP),
  };
}

/** A script's place, short: `graphql/execution/execute.js`, `src/registry/server.service.js`. */
function locationOf(url: string, projectRoot: string): string {
  if (url === '') return '';
  const path = url.replace(/^file:\/\//, '');
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules >= 0) return path.slice(inModules + '/node_modules/'.length);
  if (path.startsWith(`${projectRoot}/dist/`)) return path.slice(projectRoot.length + '/dist/'.length);
  return path;
}

/** Who the time belongs to: a package, a folder of the application, Node itself, the GC, native code. */
function originOf(functionName: string, url: string, projectRoot: string): string {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'V8: garbage collector';
    if (functionName === '(program)') return 'V8: (program) native, unattributed';
    return `native: ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return 'node: core modules';
  const location = locationOf(url, projectRoot);
  if (url.includes('/node_modules/')) {
    const [scope, name] = location.split('/');
    return scope?.startsWith('@') ? `${scope}/${name}` : (scope ?? location);
  }
  const folder = /^src\/([^/]+)\//.exec(location)?.[1];
  return folder ? `app: src/${folder}` : `app: ${location}`;
}
