import { pino } from 'pino';
import type { LogLevel } from './config.js';

export type Logger = pino.Logger;

/**
 * What is never logged. Path-based, so a careless `log.info({ req })` or an error object carrying a request
 * cannot leak a key or a stored credential: header maps are dropped whole, since the names of stored headers
 * are the server owner's choice (`X-Api-Key`, `Cookie`, …), and so are the fetch options the MCP client
 * builds from them. Paths reach a few levels down (`err.response.headers`); messages are plain text, so the
 * MCP client removes the credentials it sent from the error messages it makes (mcp/probe-outcome.ts).
 */
const REDACTED_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers',
  '*.headers',
  '*.*.headers',
  '*.*.*.headers',
  'requestInit',
  '*.requestInit',
  '*.*.requestInit',
  'connectionHeaders',
  '*.connectionHeaders',
  'connection_headers',
  '*.connection_headers',
  'sealedHeaders',
  '*.sealedHeaders',
  'apiKey',
  '*.apiKey',
  'adminApiKey',
  '*.adminApiKey',
  'ADMIN_API_KEY',
  '*.ADMIN_API_KEY',
  'encryptionKeys',
  '*.encryptionKeys',
  'ENCRYPTION_KEY',
  '*.ENCRYPTION_KEY',
];

/** Structured JSON logs on stdout (or `destination`, where tests read them). */
export function createLogger(level: LogLevel, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'mcp-registry-gateway' },
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
