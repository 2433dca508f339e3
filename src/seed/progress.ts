/** How far the seed has got, phase by phase: a bar on a terminal, log lines elsewhere, nothing in tests. */
export interface SeedProgress {
  phase(name: string, total: number): PhaseProgress;
}

export interface PhaseProgress {
  /** `rows` more are written. */
  add(rows: number): void;
  end(): void;
}

interface Writable {
  write(text: string): unknown;
}

export const silentProgress: SeedProgress = {
  phase: () => ({ add() {}, end() {} }),
};

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/** One line on a terminal, redrawn in place: phase, bar, done/total, rows per second. */
export function terminalProgress(out: Writable & { columns?: number }): SeedProgress {
  return {
    phase(name, total) {
      const started = performance.now();
      let done = 0;
      let drawn = 0;
      const draw = (final: boolean) => {
        const seconds = (performance.now() - started) / 1000;
        const share = total === 0 ? 1 : Math.min(1, done / total);
        const filled = Math.round(share * BAR_WIDTH);
        const bar = `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
        const line =
          `${name.padEnd(18)} ${bar} ${formatCount(done).padStart(11)}/${formatCount(total)} ` +
          `${formatRate(done, seconds).padStart(12)} ${seconds.toFixed(1).padStart(5)} s`;
        out.write(`\r${line.slice(0, (out.columns ?? 120) - 1)}\x1b[K${final ? '\n' : ''}`);
        drawn = performance.now();
      };
      draw(false);
      return {
        add(rows) {
          done += rows;
          if (performance.now() - drawn >= REDRAW_MS) draw(false);
        },
        end() {
          draw(true);
        },
      };
    },
  };
}

const LOG_EVERY_MS = 2000;

/** Plain `key=value` lines (for CI logs and files): when a phase starts, every few seconds, when it ends. */
export function logLineProgress(out: Writable): SeedProgress {
  return {
    phase(name, total) {
      const started = performance.now();
      let done = 0;
      let logged = started;
      const log = (event: string) => {
        const seconds = (performance.now() - started) / 1000;
        const rate = seconds > 0 ? Math.round(done / seconds) : 0;
        out.write(
          `seed event=${event} phase=${name} done=${done} total=${total} ` +
            `seconds=${seconds.toFixed(2)} rows_per_second=${rate}\n`,
        );
        logged = performance.now();
      };
      log('start');
      return {
        add(rows) {
          done += rows;
          if (performance.now() - logged >= LOG_EVERY_MS) log('progress');
        },
        end() {
          log('end');
        },
      };
    },
  };
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

function formatRate(rows: number, seconds: number): string {
  return seconds > 0 ? `${formatCount(Math.round(rows / seconds))} rows/s` : '';
}
