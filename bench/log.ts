/** Progress lines on stderr (tables go to stdout): `[bench 12.3s] phase: what is happening`. */
const started = performance.now();

export function progress(phase: string, message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stderr.write(`[bench ${seconds.padStart(6)}s] ${phase}: ${message}\n`);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
