import { Writable } from 'node:stream';

/** A pino destination that keeps the JSON lines written to it, for tests that read an app's logs. */
export function captureLines(lines: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
}
