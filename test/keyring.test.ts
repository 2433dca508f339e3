import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVELOPMENT_KEY_FILE,
  loadOrCreateDevelopmentKey,
  openKeyring,
} from '../src/crypto/development-key.js';
import {
  generateEncryptionKey,
  Keyring,
  keyIdOf,
  parseEncryptionKey,
  type SealedValue,
  SealedValueError,
} from '../src/crypto/keyring.js';
import { createLogger } from '../src/logger.js';
import { McpInspectionError, withoutSecrets } from '../src/mcp/probe-outcome.js';
import { captureLines } from './support/log-capture.js';

const keyA = parseEncryptionKey(generateEncryptionKey());
const keyB = parseEncryptionKey(generateEncryptionKey());
if (keyA === null || keyB === null) throw new Error('generated keys must parse');

const SECRET = 'Bearer tok_live_5f3c9a1e7b2d4c6e8a0b';
const CONTEXT = 'mcp_servers.connection_headers:11111111-1111-4111-8111-111111111111';

/** The failure `work` throws, or a failed expectation when it throws none or something else. */
function failureOf(work: () => unknown): SealedValueError {
  try {
    work();
  } catch (error) {
    if (error instanceof SealedValueError) return error;
    throw error;
  }
  throw new Error('expected a SealedValueError');
}

describe('Keyring', () => {
  const ring = new Keyring([keyA]);

  it('seals with AES-256-GCM in a versioned envelope that names its key, and opens it again', () => {
    const sealed = ring.seal(SECRET, CONTEXT);
    expect(sealed).toMatchObject({ v: 1, alg: 'A256GCM', kid: keyIdOf(keyA) });
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
    expect(JSON.stringify(sealed)).not.toContain('tok_live');
    expect(ring.open(sealed, CONTEXT)).toBe(SECRET);
  });

  it('uses a fresh IV for every value', () => {
    const ivs = new Set(Array.from({ length: 50 }, () => ring.seal(SECRET, CONTEXT).iv));
    expect(ivs.size).toBe(50);
  });

  it('derives a key id that is stable per key, differs between keys and does not reveal the key', () => {
    expect(keyIdOf(keyA)).toBe(keyIdOf(keyA));
    expect(keyIdOf(keyA)).not.toBe(keyIdOf(keyB));
    expect(keyIdOf(keyA)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyA.export().toString('hex')).not.toContain(keyIdOf(keyA));
  });

  it('opens a value only for the context it was sealed for', () => {
    const sealed = ring.seal(SECRET, CONTEXT);
    const moved = failureOf(() => ring.open(sealed, CONTEXT.replace(/1111$/, '2222')));
    expect(moved).toMatchObject({ reason: 'rejected', keyId: keyIdOf(keyA) });
  });

  it.each<[string, (sealed: SealedValue) => unknown]>([
    ['a changed ciphertext', (sealed) => ({ ...sealed, ct: flipFirstBit(sealed.ct) })],
    ['a changed tag', (sealed) => ({ ...sealed, tag: flipFirstBit(sealed.tag) })],
    ['a changed IV', (sealed) => ({ ...sealed, iv: flipFirstBit(sealed.iv) })],
    [
      'a truncated tag',
      (sealed) => ({ ...sealed, tag: Buffer.from(sealed.tag, 'base64').subarray(0, 4).toString('base64') }),
    ],
  ])('rejects %s', (_label, tamper) => {
    const sealed = ring.seal(SECRET, CONTEXT);
    expect(failureOf(() => ring.open(tamper(sealed), CONTEXT)).reason).toBe('rejected');
  });

  it('says which key a value needs when it does not hold it', () => {
    const sealed = new Keyring([keyB]).seal(SECRET, CONTEXT);
    const failure = failureOf(() => ring.open(sealed, CONTEXT));
    expect(failure).toMatchObject({ reason: 'unknown_key', keyId: keyIdOf(keyB) });
    expect(failure.message).toContain(keyIdOf(keyB));
  });

  it('refuses anything that is not an envelope, plaintext included', () => {
    for (const value of [{ Authorization: SECRET }, 'text', 42, [], { v: '1', kid: 'x' }]) {
      expect(failureOf(() => ring.open(value, CONTEXT)).reason).toBe('not_sealed');
    }
  });

  it('rotates: the first key seals, every key opens, and a value sealed again opens without the old key', () => {
    const old = ring.seal(SECRET, CONTEXT);
    const rotated = new Keyring([keyB, keyA]);
    expect(rotated.currentKeyId).toBe(keyIdOf(keyB));
    expect(rotated.keyIds).toEqual([keyIdOf(keyB), keyIdOf(keyA)]);
    expect(rotated.open(old, CONTEXT)).toBe(SECRET);
    const resealed = rotated.seal(rotated.open(old, CONTEXT), CONTEXT);
    expect(resealed.kid).toBe(keyIdOf(keyB));
    expect(new Keyring([keyB]).open(resealed, CONTEXT)).toBe(SECRET);
    expect(failureOf(() => new Keyring([keyB]).open(old, CONTEXT)).reason).toBe('unknown_key');
  });

  it('prints and serialises its keys without their material', () => {
    const rotated = new Keyring([keyB, keyA]);
    const material = keyB.export().toString('base64');
    expect(JSON.stringify(rotated)).not.toContain(material);
    expect(JSON.stringify({ keys: [keyA, keyB] })).not.toContain(material);
  });
});

describe('parseEncryptionKey', () => {
  const bytes = Buffer.alloc(32, 7);

  it('reads 32 bytes as hex, base64 or base64url', () => {
    for (const text of [
      bytes.toString('hex'),
      bytes.toString('hex').toUpperCase(),
      bytes.toString('base64'),
      bytes.toString('base64url'),
      ` ${bytes.toString('base64')}\n`,
    ]) {
      expect(parseEncryptionKey(text)?.export().equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['too short', Buffer.alloc(31, 7).toString('base64')],
    ['too long', Buffer.alloc(33, 7).toString('base64')],
    ['hex of 31 bytes', Buffer.alloc(31, 7).toString('hex')],
    ['not a key', 'correct horse battery staple'],
    ['empty', ''],
  ])('refuses %s', (_label, text) => {
    expect(parseEncryptionKey(text)).toBeNull();
  });
});

describe('the development key file', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'mcp-keyfile-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is created once with mode 0600 and reused after that', async () => {
    const dir = path.join(dataDir, 'nested', 'data');
    const first = loadOrCreateDevelopmentKey(dir);
    expect(first.created).toBe(true);
    expect(first.file).toBe(path.join(dir, DEVELOPMENT_KEY_FILE));
    expect((await stat(first.file)).mode & 0o777).toBe(0o600);
    const written = await readFile(first.file, 'utf8');

    const second = loadOrCreateDevelopmentKey(dir);
    expect(second.created).toBe(false);
    expect(second.key.equals(first.key)).toBe(true);
    expect(await readFile(first.file, 'utf8')).toBe(written);
  });

  it('is refused when it holds no key, rather than replaced (which would lose the data it sealed)', async () => {
    const dir = path.join(dataDir, 'damaged');
    loadOrCreateDevelopmentKey(dir);
    await writeFile(path.join(dir, DEVELOPMENT_KEY_FILE), 'not a key\n');
    expect(() => loadOrCreateDevelopmentKey(dir)).toThrowError(/does not hold a 32-byte key/);
  });

  it('is used, with a warning that names the file and never the key, only when no key is configured', async () => {
    const dir = path.join(dataDir, 'warned');
    const lines: string[] = [];
    const log = createLogger('info', captureLines(lines));
    const ring = openKeyring({ encryptionKeys: null, dataDir: dir }, log);
    const { key } = loadOrCreateDevelopmentKey(dir);
    expect(ring.currentKeyId).toBe(keyIdOf(key));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 40, created: true, keyId: keyIdOf(key) });
    const fileText = (await readFile(path.join(dir, DEVELOPMENT_KEY_FILE), 'utf8')).trim();
    expect(lines[0]).not.toContain(fileText);

    const configured = openKeyring({ encryptionKeys: [keyA], dataDir: path.join(dataDir, 'unused') }, log);
    expect(configured.currentKeyId).toBe(keyIdOf(keyA));
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[1] ?? '{}')).toMatchObject({ level: 30, keyIds: [keyIdOf(keyA)] });
    expect(lines[1]).not.toContain(keyA.export().toString('base64'));
    await expect(stat(path.join(dataDir, 'unused'))).rejects.toThrowError(/ENOENT/);
  });
});

describe('MCP client errors', () => {
  const headers = { Authorization: SECRET, 'X-Api-Key': 'k3y-0f-the-server' };

  it('lose the credentials a server echoes back, and the cause that holds its text', () => {
    const error = new McpInspectionError(
      'protocol_error',
      `protocol error: HTTP 400: token "${SECRET}" (tok_live_5f3c9a1e7b2d4c6e8a0b) or k3y-0f-the-server rejected`,
      { cause: new Error(SECRET) },
    );
    const cleaned = withoutSecrets(error, headers);
    expect(cleaned.message).not.toContain('tok_live');
    expect(cleaned.message).not.toContain('k3y-0f');
    expect(cleaned.message).toContain('[redacted]');
    expect(cleaned.outcome).toBe('protocol_error');
    expect(cleaned.cause).toBeUndefined();
  });

  it('lose the start of a credential cut off at the end of a shortened message', () => {
    const error = new McpInspectionError('protocol_error', `protocol error: echo Bearer tok_live_5f3c…`);
    expect(withoutSecrets(error, headers).message).toBe('protocol error: echo [redacted]…');
  });

  it('stay as they are when they hold no credential', () => {
    const error = new McpInspectionError('auth_failed', 'authentication failed (HTTP 401)');
    expect(withoutSecrets(error, headers)).toBe(error);
  });
});

describe('logs', () => {
  it('never carry stored header values, wherever an object or error puts them', () => {
    const lines: string[] = [];
    const log = createLogger('trace', captureLines(lines));
    const stored = { 'X-Api-Key': 'k3y-0f-the-server', Authorization: SECRET };
    const clientError = Object.assign(new Error('request failed'), {
      headers: stored,
      requestInit: { headers: stored },
      response: { status: 400, headers: stored },
    });
    log.error({ err: clientError }, 'client error');
    log.error(clientError, 'client error as the first argument');
    log.info({ target: { endpointUrl: 'https://mcp.example.test', headers: stored } }, 'target');
    log.info({ server: { connectionHeaders: stored, sealedHeaders: stored } }, 'entity');
    log.info({ row: { connection_headers: stored } }, 'row');
    log.info({ headers: stored, authorization: SECRET }, 'top level');
    log.info({ env: { ENCRYPTION_KEY: 'the-key', ADMIN_API_KEY: 'the-admin-key' } }, 'environment');
    expect(lines).toHaveLength(7);
    const output = lines.join('\n');
    for (const secret of ['tok_live', 'k3y-0f', 'the-key', 'the-admin-key'])
      expect(output).not.toContain(secret);
    expect(output).toContain('https://mcp.example.test');
  });
});

function flipFirstBit(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
}
