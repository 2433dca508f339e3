import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type ClientMetadata, type JWK } from 'oidc-provider';

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

/** A person who signs in at the provider's own login page, as a browser client's user: the token's `sub` is the username. */
export interface Person {
  readonly username: string;
  readonly password: string;
  /** The tenant claim (an id or a name), read when a token is issued. */
  readonly tenant?: string | (() => string);
  readonly roles?: readonly string[];
  readonly email?: string;
}

/**
 * A public client signing people in through the authorization code flow with PKCE (the dashboard): the provider
 * serves a login page (username and password) and a consent page, and issues refresh tokens to this client.
 */
export interface BrowserClient {
  readonly clientId: string;
  readonly people: readonly Person[];
  /** Lifetime of its access tokens in seconds (60 by default). */
  readonly accessTokenTtlSeconds?: number;
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
  readonly browserClient?: BrowserClient;
  readonly interactive?: InteractiveOptions;
}

export interface OpenIdProvider {
  readonly issuer: string;
  /** Registers a redirect URI for the browser client (known once the app listens). */
  allowRedirectUri(uri: string): Promise<void>;
  /** The grant type of every successful token request so far (`authorization_code`, `refresh_token`, …). */
  readonly grants: readonly string[];
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
  const redirectUris: string[] = [];
  const grants: string[] = [];
  const browser =
    options.browserClient === undefined ? undefined : { client: options.browserClient, redirectUris };
  const rebuild = () => {
    const built = build(issuer, keys, byId, options, browser);
    built.on('grant.success', (ctx) => grants.push(String(ctx.oidc.params?.grant_type)));
    return built;
  };
  let provider = rebuild();
  let signedIn: string | undefined = options.interactive?.accounts[0]?.id;
  server.on('request', (request, response) => {
    if (browser !== undefined && request.url?.startsWith(INTERACTION_PATH)) {
      interact(provider, browser.client, request, response).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
      return;
    }
    if (options.interactive !== undefined && request.url?.startsWith(INTERACTION_PATH)) {
      finishInteraction(provider, request, response, signedIn).catch((error: unknown) => {
        response.writeHead(500).end(String(error));
      });
      return;
    }
    provider.callback()(request, response);
  });

  return {
    issuer,
    grants,
    async allowRedirectUri(uri) {
      redirectUris.push(uri);
      provider = rebuild();
    },
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
      provider = rebuild();
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
  const grantId = await grantWhatWasAsked(provider, details);
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
  browser?: { client: BrowserClient; redirectUris: readonly string[] },
): Provider {
  const people = new Map(browser?.client.people.map((person) => [person.username, person]));
  const isBrowserClient = (clientId: string | undefined) =>
    browser !== undefined && clientId === browser.client.clientId;
  const interactive = options.interactive;
  const accounts = new Map(interactive?.accounts.map((account) => [account.id, account]));
  const provider = new Provider(issuer, {
    clients: [
      ...[...principals.values()].map((principal) => ({
        client_id: principal.id,
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      })),
      ...(browser === undefined
        ? []
        : [
            {
              client_id: browser.client.clientId,
              token_endpoint_auth_method: 'none',
              application_type: 'web',
              grant_types: ['authorization_code', 'refresh_token'],
              response_types: ['code'],
              redirect_uris: [...browser.redirectUris],
            } satisfies ClientMetadata,
          ]),
    ],
    ...(browser !== undefined && {
      interactions: { url: (_ctx, interaction) => `${INTERACTION_PATH}${interaction.uid}` },
      claims: { openid: ['sub'], profile: ['preferred_username'], email: ['email'] },
      findAccount: (_ctx, id) => {
        const person = people.get(id);
        if (person === undefined) return undefined;
        return {
          accountId: id,
          claims: () => ({ sub: id, preferred_username: person.username, email: personEmail(person) }),
        };
      },
      pkce: { required: () => true },
      // A public browser client gets refresh tokens without offline_access, as SPAs commonly do.
      issueRefreshToken: (_ctx, client, code) =>
        client.grantTypeAllowed('refresh_token') &&
        (isBrowserClient(client.clientId) || code.scopes.has('offline_access')),
    }),
    jwks: { keys: keys.map((key) => key.jwk) },
    // Registered clients may name the resource scope in their metadata.
    ...(interactive !== undefined && { scopes: ['openid', 'offline_access', interactive.scope] }),
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      ...(browser !== undefined && { revocation: { enabled: true } }),
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
                accessTokenTTL:
                  principals.get(client.clientId)?.ttlSeconds ??
                  (isBrowserClient(client.clientId) ? browser?.client.accessTokenTtlSeconds : undefined) ??
                  60,
                jwt: { sign: { alg: 'RS256' } },
              },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      if (isBrowserClient(token.clientId)) {
        const person = people.get('accountId' in token ? String(token.accountId) : '');
        if (person === undefined) return undefined;
        return {
          ...(person.tenant !== undefined && {
            tenant: typeof person.tenant === 'function' ? person.tenant() : person.tenant,
          }),
          ...(person.roles !== undefined && { roles: [...person.roles] }),
          preferred_username: person.username,
          email: personEmail(person),
        };
      }
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

const personEmail = (person: Person) => person.email ?? `${person.username}@example.test`;

/** The browser client's login and consent pages live under this path (`/interaction/<uid>`). */
const INTERACTION_PATH = '/interaction/';

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

async function formBody(request: http.IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of request) body += String(chunk);
  return new URLSearchParams(body);
}

/** The provider's own sign-in: a username and password form, then consent to what the client asked for. */
async function interact(
  provider: Provider,
  client: BrowserClient,
  request: http.IncomingMessage,
  response: http.ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  const action = `${INTERACTION_PATH}${details.uid}`;
  const send = (html: string) => {
    response.setHeader('content-type', 'text/html; charset=utf-8');
    response.end(html);
  };
  const loginForm = (problem: string) =>
    page(
      'Sign in to the test provider',
      `${problem}<form method="post" action="${action}">
        <label>Username <input name="username" autocomplete="username"></label>
        <label>Password <input name="password" type="password" autocomplete="current-password"></label>
        <button type="submit">Sign in</button></form>`,
    );
  if (request.method !== 'POST') {
    if (details.prompt.name === 'login') send(loginForm(''));
    else
      send(
        page(
          'Allow access',
          `<p>${client.clientId} asks for: ${String(details.params.scope)}</p><form method="post" action="${action}"><button type="submit">Allow</button></form>`,
        ),
      );
    return;
  }
  const body = await formBody(request);
  if (details.prompt.name === 'login') {
    const person = client.people.find((candidate) => candidate.username === body.get('username'));
    if (person === undefined || person.password !== body.get('password')) {
      send(loginForm('<p role="alert">Wrong username or password.</p>'));
      return;
    }
    await provider.interactionFinished(
      request,
      response,
      { login: { accountId: person.username } },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  await provider.interactionFinished(
    request,
    response,
    { consent: { grantId: await grantWhatWasAsked(provider, details) } },
    { mergeWithLastSubmission: true },
  );
}

/** Consent as a user gives it in these tests: every scope, claim and resource scope the client asked for. */
async function grantWhatWasAsked(
  provider: Provider,
  details: Awaited<ReturnType<Provider['interactionDetails']>>,
): Promise<string> {
  const accountId = details.session?.accountId;
  if (accountId === undefined) throw new Error('a consent interaction without a session');
  const grant =
    details.grantId === undefined
      ? new provider.Grant({ accountId, clientId: String(details.params.client_id) })
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
  return grant.save();
}
