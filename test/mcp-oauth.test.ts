import {
  Client,
  type OAuthClientMetadata,
  type OAuthClientProvider,
  type OAuthDiscoveryState,
  type StoredOAuthClientInformation,
  type StoredOAuthTokens,
  StreamableHTTPClientTransport,
  UnauthorizedError,
} from '@modelcontextprotocol/client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIALIZE_2025, postMcp } from './support/agents.js';
import { startTestApp, type TestApp } from './support/app.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { closedAfterAll, startModernServer } from './support/mcp-servers.js';
import { API_AUDIENCE, type OpenIdProvider, startOpenIdProvider } from './support/openid-provider.js';
import { seed } from './support/seed.js';

// MCP clients that sign in (the MCP authorization specification, 2025-11-25): the official SDK client finds the
// issuer through the endpoint's protected resource metadata (RFC 9728), registers itself there, runs the
// authorization code flow with PKCE for the endpoint as RFC 8707 resource, against a real OpenID provider.

let db: TestDatabase;
let app: TestApp;
let op: OpenIdProvider;
let endpoint = '';
let otherEndpoint = '';
let acmeId = '';
const started = closedAfterAll();

const CREATE_VIRTUAL =
  'mutation ($input: CreateVirtualServerInput!) { createVirtualServer(input: $input) { id endpointUrl } }';

beforeAll(async () => {
  db = await createTestDatabase();
  op = await startOpenIdProvider([], {
    interactive: {
      accounts: [
        { id: 'alice', tenant: 'acme', roles: ['user'] },
        { id: 'rita', tenant: 'acme', roles: ['readonly'] },
      ],
      resource: (resource) => resource.startsWith(`${app.origin}/mcp/`),
      scope: 'mcp',
    },
  });
  app = await startTestApp(db.target, {
    OIDC_ISSUER: op.issuer,
    OIDC_AUDIENCE: API_AUDIENCE,
    OIDC_MCP_SCOPES: 'mcp',
    OIDC_JWKS_COOLDOWN_MS: '0',
  });
  acmeId = (await seed(app.orm).tenant('acme')).id;
  const server = await started(
    startModernServer({
      name: 'maps',
      version: '1.0.0',
      tools: [{ name: 'route', inputSchema: { type: 'object' } }],
    }),
  );
  const registered = await app.graphql<{ registerServer: { id: string } }>({
    query: 'mutation ($input: RegisterServerInput!) { registerServer(input: $input) { id } }',
    variables: {
      input: { name: 'maps', endpointUrl: server.url, transportType: 'STREAMABLE_HTTP', tenantId: acmeId },
    },
  });
  expect(registered.errors).toBeUndefined();
  const members = [{ serverId: registered.data?.registerServer.id }];
  const [first, second] = await Promise.all(
    ['acme-tools', 'acme-other'].map((name) =>
      app.graphql<{ createVirtualServer: { endpointUrl: string } }>({
        query: CREATE_VIRTUAL,
        variables: { input: { name, tenantId: acmeId, members } },
      }),
    ),
  );
  expect(first?.errors ?? second?.errors).toBeUndefined();
  endpoint = first?.data?.createVirtualServer.endpointUrl ?? '';
  otherEndpoint = second?.data?.createVirtualServer.endpointUrl ?? '';
});

afterAll(async () => {
  await app?.close();
  await op?.close();
  await db?.drop();
});

const metadataUrlOf = (url: string) => {
  const { origin, pathname } = new URL(url);
  return `${origin}/.well-known/oauth-protected-resource${pathname}`;
};

describe('protected resource metadata', () => {
  it('names the endpoint as the resource and the issuer, without a key', async () => {
    const response = await fetch(metadataUrlOf(endpoint), { headers: { origin: 'https://agent.example' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toEqual({
      resource: endpoint,
      authorization_servers: [op.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['mcp'],
      resource_name: 'MCP Registry Gateway virtual server',
    });
  });

  it('answers the same for an id that exists nowhere: it reveals no virtual server', async () => {
    const unknown = `${app.origin}/mcp/00000000-0000-4000-8000-000000000000`;
    const response = await fetch(metadataUrlOf(unknown));
    expect(response.status).toBe(200);
    const document = (await response.json()) as { resource: string };
    expect(document.resource).toBe(unknown);
    const known = (await (await fetch(metadataUrlOf(endpoint))).json()) as { resource: string };
    expect({ ...document, resource: known.resource }).toEqual(known);
    // No id at all is no resource.
    expect((await fetch(`${app.origin}/.well-known/oauth-protected-resource/mcp/not-an-id`)).status).toBe(
      404,
    );
  });

  it('is named by the challenge of a request without a token', async () => {
    const response = await postMcp(endpoint, null, INITIALIZE_2025);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(
      `Bearer realm="mcp-registry-gateway", resource_metadata="${metadataUrlOf(endpoint)}"`,
    );
    await response.body?.cancel();
  });
});

describe('the official SDK client signing in', () => {
  it('discovers, registers, signs in for the endpoint, then lists and calls tools', async () => {
    op.signInAs('alice');
    const oauth = new SigningInClient();
    const url = new URL(endpoint);
    const first = new Client({ name: 'oauth-agent', version: '1.0.0' });
    await expect(
      first.connect(new StreamableHTTPClientTransport(url, { authProvider: oauth })),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    // The client registered itself and sent the user to the provider, asking for this endpoint.
    expect(oauth.registered?.client_id).toBeDefined();
    expect(oauth.authorizationUrl?.origin).toBe(op.issuer);
    expect(oauth.authorizationUrl?.searchParams.get('resource')).toBe(endpoint);
    expect(oauth.authorizationUrl?.searchParams.get('scope')).toContain('mcp');
    expect(oauth.authorizationUrl?.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = oauth.callback;
    if (callback === undefined) throw new Error('the sign-in came back without a code');

    const transport = new StreamableHTTPClientTransport(url, { authProvider: oauth });
    await transport.finishAuth(callback);
    const token = oauth.saved?.access_token ?? '';
    expect(decodeJwt(token)).toMatchObject({ aud: endpoint, sub: 'alice', tenant: 'acme' });

    const client = new Client(
      { name: 'oauth-agent', version: '1.0.0' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(transport);
    try {
      const { tools } = await client.listTools(undefined, { cacheMode: 'bypass' });
      expect(tools.map((tool) => tool.name)).toEqual(['maps__route']);
      const result = await client.callTool({ name: 'maps__route', arguments: {} });
      expect(result.isError).not.toBe(true);
    } finally {
      await client.close();
    }

    // RFC 8707: the token is for this endpoint only; anywhere else it is a bad key.
    const badKey = await postMcp(otherEndpoint, 'mcp_not-a-key-at-all-0123456789', INITIALIZE_2025);
    const elsewhere = await postMcp(otherEndpoint, token, INITIALIZE_2025);
    expect(elsewhere.status).toBe(401);
    expect(await elsewhere.text()).toBe(await badKey.text());
    expect(elsewhere.headers.get('www-authenticate')).toContain(metadataUrlOf(otherEndpoint));
    const graphql = await app.graphql({ query: '{ viewer { user { id } } }', key: token });
    expect(graphql.status).toBe(401);
  });

  it('refuses a READONLY user after sign-in (no PROXY) with 403', async () => {
    op.signInAs('rita');
    const oauth = new SigningInClient();
    const url = new URL(endpoint);
    await expect(
      new Client({ name: 'oauth-agent', version: '1.0.0' }).connect(
        new StreamableHTTPClientTransport(url, { authProvider: oauth }),
      ),
    ).rejects.toBeInstanceOf(UnauthorizedError);
    const transport = new StreamableHTTPClientTransport(url, { authProvider: oauth });
    await transport.finishAuth(oauth.callback ?? new URLSearchParams());
    const refused = await postMcp(endpoint, oauth.saved?.access_token ?? '', INITIALIZE_2025);
    expect(refused.status).toBe(403);
    await refused.body?.cancel();
    await transport.close();
  });
});

/**
 * An MCP client's OAuth side, kept in memory. Where a real client opens a browser at the authorization URL, this
 * one follows the provider's redirects over HTTP (cookies included) up to the redirect back to the client.
 */
class SigningInClient implements OAuthClientProvider {
  readonly redirectUrl = 'http://127.0.0.1:9/callback';
  registered: StoredOAuthClientInformation | undefined;
  saved: StoredOAuthTokens | undefined;
  authorizationUrl: URL | undefined;
  callback: URLSearchParams | undefined;
  private verifier = '';
  private discovery: OAuthDiscoveryState | undefined;

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'oauth test agent',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  clientInformation(): StoredOAuthClientInformation | undefined {
    return this.registered;
  }

  saveClientInformation(information: StoredOAuthClientInformation): void {
    this.registered = information;
  }

  tokens(): StoredOAuthTokens | undefined {
    return this.saved;
  }

  saveTokens(tokens: StoredOAuthTokens): void {
    this.saved = tokens;
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }

  // Lets the SDK check that the code is redeemed at the issuer that minted it.
  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.discovery;
  }

  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.authorizationUrl = authorizationUrl;
    this.callback = await followSignIn(authorizationUrl, this.redirectUrl);
  }
}

/** Follows redirects from `start` until one leads to `redirectUrl`; its query is the authorization response. */
async function followSignIn(start: URL, redirectUrl: string): Promise<URLSearchParams> {
  const cookies = new Map<string, string>();
  let url = start;
  for (let hop = 0; hop < 12; hop++) {
    const response = await fetch(url, {
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const at = pair.indexOf('=');
      const name = pair.slice(0, at).trim();
      const expired = attributes.some((attribute) => /expires=.*1970/i.test(attribute));
      if (expired) cookies.delete(name);
      else cookies.set(name, pair.slice(at + 1).trim());
    }
    const location = response.headers.get('location');
    if (location === null)
      throw new Error(`sign-in stopped at ${url}: ${response.status} ${await response.text()}`);
    await response.body?.cancel();
    const next = new URL(location, url);
    if (next.href.startsWith(redirectUrl)) {
      if (next.searchParams.has('error')) throw new Error(`sign-in refused: ${next.search}`);
      return next.searchParams;
    }
    url = next;
  }
  throw new Error('sign-in redirected too often');
}
