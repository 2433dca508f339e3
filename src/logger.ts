import { pino } from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/**
 * Structured JSON logs on stdout. Credentials are redacted wherever they appear in a logged object,
 * so a careless `log.info({ req })` cannot leak a key.
 */
export function createLogger(level: LogLevel): Logger {
  return pino({
    level,
    base: { service: 'mcp-registry-gateway' },
    redact: {
      paths: [
        'authorization',
        '*.authorization',
        'headers.authorization',
        '*.headers.authorization',
        'apiKey',
        '*.apiKey',
      ],
      censor: '[redacted]',
    },
  });
}
