import type { KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generateEncryptionKey, Keyring, keyIdOf, parseEncryptionKey } from './keyring.js';

/** Where the keyring says which keys it loaded (the application's logger; crypto sits below logging). */
export interface KeyLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

export const DEVELOPMENT_KEY_FILE = 'encryption.key';

export interface DevelopmentKey {
  readonly key: KeyObject;
  readonly file: string;
  /** True when this call created the file. */
  readonly created: boolean;
}

/**
 * The key kept in `${dataDir}/encryption.key` when ENCRYPTION_KEY is not configured (never in production):
 * created once with mode 0600, then reused, so data sealed by one run opens in the next. Two processes
 * starting together agree on one key: the file is created exclusively, and the loser reads the winner's.
 */
export function loadOrCreateDevelopmentKey(dataDir: string): DevelopmentKey {
  const file = path.join(dataDir, DEVELOPMENT_KEY_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  let created = false;
  try {
    writeFileSync(file, `${generateEncryptionKey()}\n`, { mode: 0o600, flag: 'wx' });
    created = true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const key = parseEncryptionKey(readFileSync(file, 'utf8'));
  if (key === null) {
    throw new Error(`${file} does not hold a 32-byte key (base64 or hex): fix or remove it`);
  }
  return { key, file, created };
}

/**
 * The keyring of this process: the configured ENCRYPTION_KEY keys, or outside production the development
 * key file (with a warning, since whoever can read DATA_DIR can read that key).
 */
export function openKeyring(
  config: { readonly encryptionKeys: readonly KeyObject[] | null; readonly dataDir: string },
  log: KeyLog,
): Keyring {
  if (config.encryptionKeys !== null) {
    const keyring = new Keyring(config.encryptionKeys);
    log.info({ keyId: keyring.currentKeyId, keyIds: keyring.keyIds }, 'ENCRYPTION_KEY loaded');
    return keyring;
  }
  const { key, file, created } = loadOrCreateDevelopmentKey(config.dataDir);
  const loose = (statSync(file).mode & 0o077) !== 0;
  log.warn(
    { file, keyId: keyIdOf(key), created, ...(loose ? { permissions: 'readable by others' } : {}) },
    created
      ? 'ENCRYPTION_KEY is not set: generated a development key to seal stored credentials; set ENCRYPTION_KEY in production'
      : 'ENCRYPTION_KEY is not set: sealing stored credentials with the development key; set ENCRYPTION_KEY in production',
  );
  return new Keyring([key]);
}
