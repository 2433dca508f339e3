import cliProgress from 'cli-progress';

/** How far the seed has got, phase by phase: a bar on a terminal, log lines elsewhere, nothing in tests. */
export interface SeedProgress {
  phase(name: string, total: number): PhaseProgress;
}

export interface PhaseProgress {
  /** `rows` more are written. */
  add(rows: number): void;
  end(): void;
}

export const silentProgress: SeedProgress = {
  phase: () => ({ add() {}, end() {} }),
};

/** What each render of a phase's bar knows besides the counts. */
interface PhasePayload {
  readonly phase: string;
  /** For log lines: the phase has just started, is running, or has ended. */
  readonly event: 'start' | 'progress' | 'end';
}

/** One line redrawn in place: phase, bar, share, rows done of total, elapsed time and ETA. */
const TERMINAL_OPTIONS: cliProgress.Options = {
  format: '{phase} {bar} {percentage}% {value}/{total} rows | {duration_formatted} | ETA {eta_formatted}',
  formatValue: (value, _options, type) =>
    type === 'value' || type === 'total' ? formatCount(value) : String(value),
  barsize: 24,
  barCompleteChar: '█',
  barIncompleteChar: '░',
};

const LOG_EVERY_MS = 2000;

/**
 * Plain `key=value` lines for CI logs and files (cli-progress's output to a stream that is not a TTY): when a
 * phase starts, every 2 s while it runs, and when it ends.
 */
const LOG_LINE_OPTIONS: cliProgress.Options = {
  noTTYOutput: true,
  notTTYSchedule: LOG_EVERY_MS,
  // Without a terminal there is nothing to clear; this only keeps an empty line from following each phase.
  clearOnComplete: true,
  format: (_options, params, payload: PhasePayload) => {
    const seconds = (Date.now() - params.startTime) / 1000;
    const rate = seconds > 0 ? Math.round(params.value / seconds) : 0;
    return (
      `seed event=${payload.event} phase=${payload.phase} done=${params.value} total=${params.total} ` +
      `seconds=${seconds.toFixed(2)} rows_per_second=${rate}`
    );
  },
};

/** A cli-progress bar per phase on `stream`: the terminal form on a TTY, log lines anywhere else. */
export function barProgress(stream: NodeJS.WriteStream): SeedProgress {
  const terminal = stream.isTTY === true;
  return {
    phase(name, total) {
      const bar = new cliProgress.SingleBar({ ...(terminal ? TERMINAL_OPTIONS : LOG_LINE_OPTIONS), stream });
      let done = 0;
      let logged = Date.now();
      bar.on('redraw-post', () => {
        logged = Date.now();
      });
      // Padded on a terminal so that the bars of successive phases line up.
      const phase = terminal ? name.padEnd(18) : name;
      bar.start(total, 0, { phase, event: 'start' } satisfies PhasePayload);
      bar.update({ event: 'progress' } satisfies Partial<PhasePayload>);
      return {
        add(rows) {
          done += rows;
          bar.update(done);
          // cli-progress logs on a timer, which never fires while PGlite keeps the event loop busy (a long
          // phase then logged nothing between start and end); a terminal bar is redrawn from update() itself.
          if (!terminal && Date.now() - logged >= LOG_EVERY_MS) bar.render();
        },
        end() {
          bar.update({ event: 'end' } satisfies Partial<PhasePayload>);
          bar.stop();
        },
      };
    },
  };
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}
