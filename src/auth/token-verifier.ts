import { createRemoteJWKSet, decodeJwt, type JWTPayload, jwtVerify } from 'jose';
import type { OidcSettings } from '../config.js';

/**
 * Signing algorithms a token may use: asymmetric only. `none` and the HS family are never accepted, so a token
 * "signed" with nothing, or with an issuer's public key used as an HMAC secret, is refused.
 */
export const TOKEN_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** Clock difference tolerated on `exp`, `nbf` and `iat`, in seconds. */
const CLOCK_TOLERANCE_S = 30;

/** How long a failed discovery is remembered before it is tried again, so a down issuer is not hammered. */
const DISCOVERY_RETRY_MS = 10_000;

const MAX_TOKEN_LENGTH = 16_384;

/** A bearer value shaped as a compact JWS: three base64url segments. API keys never are. */
export function looksLikeJwt(token: string): boolean {
  return token.length <= MAX_TOKEN_LENGTH && /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);
}

/** A token that passed every check: its issuer and claims. */
export interface VerifiedToken {
  readonly issuer: string;
  readonly subject: string;
  readonly claims: JWTPayload;
  readonly expiresAt: Date;
}

/** Verifies access tokens; resolves to `null` for any token that is not acceptable, whatever the reason. */
export interface TokenVerifier {
  /**
   * `resource`: the RFC 8707 resource the request is addressed to (an MCP endpoint's canonical URI); a token
   * whose `aud` names it is accepted there beside one for the configured audience.
   */
  verify(token: string, resource?: string): Promise<VerifiedToken | null>;
}

type KeySet = ReturnType<typeof createRemoteJWKSet>;

/**
 * The configured issuers' tokens, checked with `jose`: signature against the issuer's JWKS (fetched from the
 * `jwks_uri` of its discovery document, cached, and fetched again when a token names a key it has not seen, so
 * key rotation at the issuer just works), `iss` equal to a configured issuer, `aud` containing our audience (or
 * the resource the request is addressed to), `exp` present and `exp`/`nbf` within a small clock tolerance, and
 * only asymmetric algorithms.
 */
export function createTokenVerifier(
  settings: OidcSettings,
  fetchJson: (url: string) => Promise<unknown> = defaultFetchJson,
): TokenVerifier {
  const keySets = new Map<string, Promise<KeySet>>();

  const keySetOf = (issuer: string): Promise<KeySet> => {
    const known = keySets.get(issuer);
    if (known !== undefined) return known;
    const discovered = discover(issuer, settings.jwksCooldownMs, fetchJson);
    keySets.set(issuer, discovered);
    // A failed discovery is forgotten after a while, so the next token after that tries again.
    discovered.catch(() => {
      setTimeout(() => keySets.delete(issuer), DISCOVERY_RETRY_MS).unref();
    });
    return discovered;
  };

  return {
    async verify(token, resource) {
      let issuer: string;
      try {
        const unverified = decodeJwt(token).iss;
        if (typeof unverified !== 'string' || !settings.issuers.includes(unverified)) return null;
        issuer = unverified;
      } catch {
        return null;
      }
      try {
        const keys = await keySetOf(issuer);
        const { payload } = await jwtVerify(token, keys, {
          issuer,
          audience: resource === undefined ? settings.audience : [settings.audience, resource],
          algorithms: TOKEN_ALGORITHMS,
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['exp', 'sub'],
        });
        if (typeof payload.sub !== 'string' || payload.sub === '' || payload.exp === undefined) return null;
        return { issuer, subject: payload.sub, claims: payload, expiresAt: new Date(payload.exp * 1000) };
      } catch {
        return null;
      }
    },
  };
}

async function discover(
  issuer: string,
  cooldownMs: number,
  fetchJson: (url: string) => Promise<unknown>,
): Promise<KeySet> {
  const document = await fetchJson(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (typeof document !== 'object' || document === null)
    throw new Error(`no discovery document for ${issuer}`);
  const { issuer: announced, jwks_uri: jwksUri } = document as { issuer?: unknown; jwks_uri?: unknown };
  // OpenID Connect Discovery 1.0, section 4.3: the document must name exactly the issuer it was fetched for.
  if (announced !== issuer) throw new Error(`discovery document of ${issuer} names another issuer`);
  if (typeof jwksUri !== 'string') throw new Error(`discovery document of ${issuer} has no jwks_uri`);
  return createRemoteJWKSet(new URL(jwksUri), { timeoutDuration: 5_000, cooldownDuration: cooldownMs });
}

async function defaultFetchJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000), redirect: 'error' });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}
