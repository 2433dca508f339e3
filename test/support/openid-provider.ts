import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type JWK } from 'oidc-provider';

// A real, certified OpenID provider (`oidc-provider`) on a local port, issuing JWT access tokens for our API.
// Each test principal is a client of the provider using the client credentials grant: the token's `sub` is its
// client id, and its tenant, roles and names are extra claims. Rotation restarts the provider on the same issuer
// with a new signing key first (and the old one still published).

/** The audience the provider's tokens carry: our API as a resource indicator. */
export const API_AUDIENCE = 'urn:mcp-registry-gateway';

export interface Principal {
  /** The client id: the token's `sub`. */
  readonly id: string;
  /** The tenant claim (an id or a name), read when a token is issued. */
  readonly tenant?: string | (() => string);
  readonly roles?: readonly string[];
  readonly username?: string;
  readonly email?: string;
  /** Lifetime of its tokens in seconds (60 by default). */
  readonly ttlSeconds?: number;
}

export interface OpenIdProvider {
  readonly issuer: string;
  /** A JWT access token for the principal, from the provider's token endpoint. */
  tokenFor(principalId: string): Promise<string>;
  /** Signs with a new key from now on (the old key stays published). */
  rotateKey(): Promise<void>;
  /** The key the provider signs with now (to forge tokens in tests). */
  readonly signingKey: SigningKey;
  close(): Promise<void>;
}

const SECRET = 'client-secret-0123456789abcdef0123456789';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JWK;
}

function newSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

export async function startOpenIdProvider(principals: readonly Principal[]): Promise<OpenIdProvider> {
  const byId = new Map(principals.map((principal) => [principal.id, principal]));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let keys: SigningKey[] = [newSigningKey()];
  let provider = build(issuer, keys, byId);
  server.on('request', (request, response) => provider.callback()(request, response));

  return {
    issuer,
    get signingKey() {
      return keys[0] as SigningKey;
    },
    async tokenFor(principalId) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`${principalId}:${SECRET}`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: API_AUDIENCE, scope: 'api' }),
      });
      const body = (await response.json()) as { access_token?: string; error?: string };
      if (body.access_token === undefined)
        throw new Error(`no token for ${principalId}: ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async rotateKey() {
      keys = [newSigningKey(), ...keys];
      provider = build(issuer, keys, byId);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function build(
  issuer: string,
  keys: readonly SigningKey[],
  principals: ReadonlyMap<string, Principal>,
): Provider {
  const provider = new Provider(issuer, {
    clients: [...principals.values()].map((principal) => ({
      client_id: principal.id,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    jwks: { keys: keys.map((key) => key.jwk) },
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, _resource, client) => ({
          scope: 'api',
          audience: API_AUDIENCE,
          accessTokenFormat: 'jwt',
          accessTokenTTL: principals.get(client.clientId)?.ttlSeconds ?? 60,
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const principal = principals.get(token.clientId ?? '');
      if (principal === undefined) return undefined;
      return {
        ...(principal.tenant !== undefined && {
          tenant: typeof principal.tenant === 'function' ? principal.tenant() : principal.tenant,
        }),
        ...(principal.roles !== undefined && { roles: [...principal.roles] }),
        preferred_username: principal.username ?? principal.id,
        email: principal.email ?? `${principal.id}@example.test`,
      };
    },
  });
  return provider;
}
