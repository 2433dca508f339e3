import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from 'node:crypto';

/** AES-256 keys are 32 bytes. */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const CIPHER = 'aes-256-gcm';
const ENVELOPE_VERSION = 1;
const ALGORITHM = 'A256GCM';

/**
 * A value sealed with AES-256-GCM, as it is stored (a JSON object). `v` is a number, so no map of header
 * names to string values can ever look like an envelope.
 */
export interface SealedValue {
  /** Envelope format version. */
  readonly v: typeof ENVELOPE_VERSION;
  readonly alg: typeof ALGORITHM;
  /** The id of the key that sealed it (see `keyIdOf`): rotation opens it with that key. */
  readonly kid: string;
  /** Base64: a fresh random 96-bit IV per value. */
  readonly iv: string;
  /** Base64 ciphertext. */
  readonly ct: string;
  /** Base64 128-bit GCM authentication tag. */
  readonly tag: string;
}

/**
 * Why a stored value could not be opened: it is no envelope at all, it names a key this keyring does not
 * hold, or the key rejected it (changed, or sealed for another row).
 */
export type OpenFailure = 'not_sealed' | 'unknown_key' | 'rejected';

export class SealedValueError extends Error {
  constructor(
    readonly reason: OpenFailure,
    /** The key id the envelope names, when it names one (ids are not secret). */
    readonly keyId: string | null,
    message: string,
  ) {
    super(message);
    this.name = 'SealedValueError';
  }
}

/**
 * A short, stable id for a key: a domain-separated SHA-256, so it names the key without being usable to
 * find or check it.
 */
export function keyIdOf(key: KeyObject): string {
  return createHash('sha256')
    .update('mcp-registry-gateway encryption key id\0')
    .update(key.export())
    .digest('hex')
    .slice(0, 16);
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * A 32-byte key written as 64 hex characters or as base64 (standard or URL-safe); null for anything else.
 * Keys are held as KeyObjects, which print and serialise without their material.
 */
export function parseEncryptionKey(text: string): KeyObject | null {
  const trimmed = text.trim();
  let bytes: Buffer | null = null;
  if (HEX_KEY.test(trimmed)) bytes = Buffer.from(trimmed, 'hex');
  else if (BASE64_KEY.test(trimmed)) bytes = Buffer.from(trimmed, 'base64');
  return bytes?.length === KEY_BYTES ? createSecretKey(bytes) : null;
}

/** A fresh random key, base64 (what `openssl rand -base64 32` prints). */
export function generateEncryptionKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

export function isSealedValue(value: unknown): value is SealedValue {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const envelope = value as Record<string, unknown>;
  return (
    envelope.v === ENVELOPE_VERSION &&
    envelope.alg === ALGORITHM &&
    ['kid', 'iv', 'ct', 'tag'].every((field) => typeof envelope[field] === 'string')
  );
}

/**
 * The keys values are sealed and opened with: the first seals, every one opens, so keys can rotate (start
 * with `new,old`, let values be sealed again, then drop `old`). Each value is sealed for a `context` (what
 * and whose it is, e.g. a column and a row id), authenticated but not stored: a value opens only for the
 * context it was sealed for, so it cannot be copied onto another row.
 */
export class Keyring {
  private readonly keys = new Map<string, KeyObject>();
  /** The id of the key that seals. */
  readonly currentKeyId: string;

  constructor(keys: readonly KeyObject[]) {
    const [current] = keys;
    if (current === undefined) throw new Error('a keyring needs at least one key');
    for (const key of keys) {
      if (key.type !== 'secret' || key.symmetricKeySize !== KEY_BYTES) {
        throw new Error(`encryption keys must be ${KEY_BYTES}-byte secret keys`);
      }
      this.keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(current);
  }

  /** The ids of every key that opens values, the sealing one first. */
  get keyIds(): string[] {
    return [...this.keys.keys()];
  }

  seal(plaintext: string, context: string): SealedValue {
    const kid = this.currentKeyId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.key(kid), iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(additionalData(kid, context));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return {
      v: ENVELOPE_VERSION,
      alg: ALGORITHM,
      kid,
      iv: iv.toString('base64'),
      ct: ct.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
    };
  }

  /** The plaintext of a sealed value; a SealedValueError (never a crash, never a guess) otherwise. */
  open(value: unknown, context: string): string {
    if (!isSealedValue(value)) {
      throw new SealedValueError('not_sealed', null, 'the stored value is not a sealed envelope');
    }
    const key = this.keys.get(value.kid);
    if (key === undefined) {
      throw new SealedValueError(
        'unknown_key',
        value.kid,
        `it was sealed with key ${value.kid}, which is not in ENCRYPTION_KEY`,
      );
    }
    const iv = Buffer.from(value.iv, 'base64');
    const tag = Buffer.from(value.tag, 'base64');
    // A short tag would weaken the authentication: only full-length ones are accepted.
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw rejected(value.kid);
    try {
      const decipher = createDecipheriv(CIPHER, key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(additionalData(value.kid, context));
      decipher.setAuthTag(tag);
      const plaintext = Buffer.concat([decipher.update(Buffer.from(value.ct, 'base64')), decipher.final()]);
      return plaintext.toString('utf8');
    } catch {
      throw rejected(value.kid);
    }
  }

  private key(kid: string): KeyObject {
    const key = this.keys.get(kid);
    if (key === undefined) throw new Error(`no key ${kid}`);
    return key;
  }
}

/** The envelope's header and the value's context, authenticated with the ciphertext. */
function additionalData(kid: string, context: string): Buffer {
  return Buffer.from(`${ENVELOPE_VERSION}\0${ALGORITHM}\0${kid}\0${context}`, 'utf8');
}

function rejected(kid: string): SealedValueError {
  return new SealedValueError(
    'rejected',
    kid,
    `key ${kid} rejected it: the stored value was altered, or sealed for another row`,
  );
}
