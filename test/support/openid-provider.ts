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

/**
 * For people who sign in (the authorization code flow, as MCP clients run it): the provider registers clients
 * dynamically (RFC 7591), issues tokens for the RFC 8707 resources `resource` accepts (`aud` = that resource),
 * and finishes every login and consent interaction itself, signed in as the account `signInAs` chose.
 */
export interface InteractiveOptions {
  /** The accounts people sign in as: `id` is the account id (the token's `sub`), the rest its claims. */
  readonly accounts: readonly Principal[];
  /** Whether a resource indicator is one the provider issues tokens for (besides API_AUDIENCE). */
  readonly resource: (resource: string) => boolean;
  /** The scope those tokens may carry. */
  readonly scope: string;
}

export interface OpenIdProviderOptions {
  readonly interactive?: InteractiveOptions;
}

export interface OpenIdProvider {
  readonly issuer: string;
  /** Who the next interactive login signs in as (one of the interactive accounts). */
  signInAs(accountId: string): void;
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

export async function startOpenIdProvider(
  principals: readonly Principal[],
  options: OpenIdProviderOptions = {},
): Promise<OpenIdProvider> {
  const byId = new Map(principals.map((principal) => [principal.id, principal]));
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let keys: SigningKey[] = [newSigningKey()];
  let provider = build(issuer, keys, byId, options);
  let signedIn: string | undefined = options.interactive?.accounts[0]?.id;
  server.on('request', (request, response) => {
    if (options.interactive !== undefined && request.url?.startsWith('/interaction/')) {
      finishInteraction(provider, request, response, signedIn).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
      return;
    }
    provider.callback()(request, response);
  });

  return {
    issuer,
    signInAs(accountId) {
      signedIn = accountId;
    },
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
      provider = build(issuer, keys, byId, options);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Answers the provider's login or consent interaction as the user would: signs in as `accountId`, and grants
 * every scope and resource the client asked for.
 */
async function finishInteraction(
  provider: Provider,
  request: http.IncomingMessage,
  response: http.ServerResponse,
  accountId: string | undefined,
): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  if (details.prompt.name === 'login') {
    if (accountId === undefined) throw new Error('nobody to sign in as');
    await provider.interactionFinished(request, response, { login: { accountId } });
    return;
  }
  const session = details.session;
  if (session === undefined) throw new Error('a consent interaction without a session');
  const grant =
    details.grantId === undefined
      ? new provider.Grant({ accountId: session.accountId, clientId: String(details.params.client_id) })
      : await provider.Grant.find(details.grantId);
  if (grant === undefined) throw new Error(`no grant ${details.grantId}`);
  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(resource, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(
    request,
    response,
    { consent: { grantId } },
    { mergeWithLastSubmission: true },
  );
}

function build(
  issuer: string,
  keys: readonly SigningKey[],
  principals: ReadonlyMap<string, Principal>,
  options: OpenIdProviderOptions,
): Provider {
  const interactive = options.interactive;
  const accounts = new Map(interactive?.accounts.map((account) => [account.id, account]));
  const provider = new Provider(issuer, {
    clients: [...principals.values()].map((principal) => ({
      client_id: principal.id,
      client_secret: SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    jwks: { keys: keys.map((key) => key.jwk) },
    // Registered clients may name the resource scope in their metadata.
    ...(interactive !== undefined && { scopes: ['openid', 'offline_access', interactive.scope] }),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      ...(interactive !== undefined && { registration: { enabled: true } }),
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API_AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource, client) =>
          interactive?.resource(resource)
            ? {
                scope: interactive.scope,
                audience: resource,
                accessTokenFormat: 'jwt',
                accessTokenTTL: 60,
                jwt: { sign: { alg: 'RS256' } },
              }
            : {
                scope: 'api',
                audience: API_AUDIENCE,
                accessTokenFormat: 'jwt',
                accessTokenTTL: principals.get(client.clientId)?.ttlSeconds ?? 60,
                jwt: { sign: { alg: 'RS256' } },
              },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      // A client's own token (client credentials), or a signed-in account's.
      const principal =
        principals.get(token.clientId ?? '') ??
        ('accountId' in token ? accounts.get(String(token.accountId)) : undefined);
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
