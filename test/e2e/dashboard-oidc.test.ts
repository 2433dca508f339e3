import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page, WebSocket } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, redisAvailable } from '../support/database.js';
import { startStreamableHttpServer } from '../support/mcp-servers.js';
import { API_AUDIENCE, type OpenIdProvider, startOpenIdProvider } from '../support/openid-provider.js';
import { browserTestsRun, launchChromium, screenshot, watchForProblems } from './support/browser.js';
import { type Configuration, startConfiguration } from './support/configurations.js';
import { createTestTenant } from './support/contract-calls.js';
import { type ServerProcess } from './support/server-process.js';

/**
 * Dashboard sign-in with an identity provider, in headless Chromium: a real OpenID provider (oidc-provider) with
 * its own login and consent pages, the built server configured with OIDC_*; the authorization code flow with
 * PKCE lands each person in their own tenant, the access token (short-lived here) is renewed with the refresh
 * token and the live socket comes back with the renewed one; sign-out leaves no token behind.
 */

const CLIENT_ID = 'gateway-dashboard';
/** Short, so the test sees renewals and the first token's end. */
const TOKEN_TTL_SECONDS = 6;
const SOON = { timeout: 30_000 };

const catalog = (name: string) => ({
  name,
  version: '1.0.0',
  tools: [{ name: `${name}-tool`, description: name, inputSchema: { type: 'object' as const } }],
});

const row = (page: Page, serverName: string) => page.locator(`tr[data-server-name="${serverName}"]`);

/** The authorization each graphql-ws connection_init carried, in order of the sockets. */
function watchSockets(page: Page): { sockets: WebSocket[]; inits: string[] } {
  const sockets: WebSocket[] = [];
  const inits: string[] = [];
  page.on('websocket', (socket) => {
    sockets.push(socket);
    socket.on('framesent', ({ payload }) => {
      const message = JSON.parse(String(payload)) as {
        type: string;
        payload?: { authorization?: string };
      };
      if (message.type === 'connection_init') inits.push(message.payload?.authorization ?? '');
    });
  });
  return { sockets, inits };
}

describe.skipIf(!browserTestsRun() || !postgresAvailable() || !redisAvailable())(
  'dashboard sign-in with an identity provider',
  () => {
    let workDir: string;
    let browser: Browser;
    const tenants = { ann: '', bob: '' };
    let op: OpenIdProvider;
    const processes: ServerProcess[] = [];
    const cleanUps: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'mcp-dashboard-oidc-'));
      browser = await launchChromium();
      op = await startOpenIdProvider([], {
        browserClient: {
          clientId: CLIENT_ID,
          accessTokenTtlSeconds: TOKEN_TTL_SECONDS,
          people: [
            { username: 'ann', password: 'ann-secret', tenant: () => tenants.ann, roles: ['user'] },
            { username: 'bob', password: 'bob-secret', tenant: () => tenants.bob, roles: ['readonly'] },
          ],
        },
      });
    });

    afterAll(async () => {
      await browser?.close();
      const codes = await Promise.all(processes.map((server) => server.stop()));
      for (const cleanUp of cleanUps) await cleanUp().catch(() => undefined);
      await op?.close();
      await rm(workDir, { recursive: true, force: true });
      expect(codes.every((code) => code === 0)).toBe(true);
    });

    const oidcEnvironment = () => ({
      OIDC_ISSUER: op.issuer,
      OIDC_AUDIENCE: API_AUDIENCE,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_SCOPES: 'openid profile email api',
      OIDC_RESOURCE: API_AUDIENCE,
      OIDC_PROVIDER_NAME: 'Test ID',
    });

    const startIn = (configuration: Configuration) =>
      startConfiguration(configuration, { workDir, env: oidcEnvironment(), processes, cleanUps });

    /** From the dashboard's sign-in page through the provider's login and consent pages, back signed in. */
    async function signInAtProvider(page: Page, origin: string, username: string, password: string) {
      await page.goto(`${origin}/#/servers`);
      // The key sign-in stays beside the provider's.
      await page.getByLabel('API key').waitFor();
      await screenshot(page, 'oidc-sign-in');
      await page.getByRole('button', { name: 'Sign in with Test ID' }).click();
      await page.waitForURL((url) => url.origin === op.issuer);
      await page.getByLabel('Username').fill(username);
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((url) => url.origin === origin);
      // Back on the page it left (the hash route), the code gone from the address bar.
      await page.getByRole('heading', { name: 'Servers' }).waitFor(SOON);
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/');
      expect(new URL(page.url()).hash).toBe('#/servers');
    }

    it.each(['embedded', 'production'] as const)(
      '%s: each person signs in at the provider into their own tenant; tokens renew; sign-out forgets them',
      async (configuration) => {
        const weather = await startStreamableHttpServer(catalog('weather'));
        const notes = await startStreamableHttpServer(catalog('notes'));
        cleanUps.push(
          () => weather.close(),
          () => notes.close(),
        );
        const { server, adminKey } = await startIn(configuration);
        await op.allowRedirectUri(`${server.origin}/auth/callback`);
        const annTenant = await createTestTenant(server.url, adminKey, 'ann');
        const bobTenant = await createTestTenant(server.url, adminKey, 'bob');
        tenants.ann = annTenant.id;
        tenants.bob = bobTenant.id;
        await annTenant.register('weather', weather.url);
        await bobTenant.register('notes', notes.url);

        // The page names the provider and allows the browser to reach it (discovery, token endpoint), no more.
        const served = await fetch(`${server.origin}/auth/callback`);
        expect(served.status).toBe(200);
        const policy = served.headers.get('content-security-policy') ?? '';
        expect(policy).toContain(`connect-src 'self' ws://${new URL(server.origin).host}`);
        expect(policy).toContain(` ${op.issuer};`);
        expect(await served.text()).toContain(`data-oidc-client-id="${CLIENT_ID}"`);

        // Ann: her tenant's server, not Bob's.
        const annContext = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        cleanUps.push(() => annContext.close());
        const page = await annContext.newPage();
        const problems = watchForProblems(page, server.origin);
        const { sockets, inits } = watchSockets(page);
        const bearers = new Set<string>();
        page.on('request', (request) => {
          const authorization = request.headers().authorization;
          if (request.url().startsWith(`${server.origin}/graphql`) && authorization !== undefined)
            bearers.add(authorization);
        });
        const refreshes = () => op.grants.filter((grant) => grant === 'refresh_token').length;
        const refreshesBefore = refreshes();
        await signInAtProvider(page, server.origin, 'ann', 'ann-secret');
        await expect.poll(() => page.getByTestId('signed-in-as').textContent(), SOON).toContain('ann');
        expect(await page.getByTestId('signed-in-as').textContent()).toContain('ann-');
        await row(page, 'weather').waitFor(SOON);
        await page.locator('[data-live="connected"]').waitFor(SOON);
        expect(await page.locator('tr[data-server-name]').count()).toBe(1);
        await screenshot(page, `${configuration}-oidc-servers`);
        expect(op.grants).toContain('authorization_code');

        // Renewal: the refresh token brings new access tokens before each ends; the API closes the socket at
        // the first token's end, and it reconnects with a renewed token and goes on receiving.
        const firstToken = inits[0];
        expect(firstToken).toMatch(/^Bearer ey/);
        await expect.poll(() => refreshes() - refreshesBefore, SOON).toBeGreaterThanOrEqual(2);
        await expect.poll(() => sockets.some((socket) => socket.isClosed()), SOON).toBe(true);
        await expect.poll(() => inits.some((init) => init !== firstToken), SOON).toBe(true);
        await page.locator('[data-live="connected"]').waitFor(SOON);
        await page.getByRole('link', { name: 'Overview' }).click();
        await expect.poll(() => page.getByTestId('health-summary').textContent(), SOON).toContain('Servers1');
        expect(bearers.size).toBeGreaterThanOrEqual(2);

        // Tokens were never written to storage: only the tab's memory had them.
        // The page's globals, in Node's types: only what the check reads.
        const stored = await page.evaluate(() => {
          const { sessionStorage, localStorage } = globalThis as unknown as {
            sessionStorage: Record<string, string>;
            localStorage: Record<string, string>;
          };
          return JSON.stringify({ ...sessionStorage, ...localStorage });
        });
        for (const bearer of bearers) expect(stored).not.toContain(bearer.slice('Bearer '.length));

        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('button', { name: 'Sign in with Test ID' }).waitFor();
        // A reload finds no session either.
        await page.reload();
        await page.getByRole('button', { name: 'Sign in with Test ID' }).waitFor();
        expect(
          problems.filter((problem) => !problem.startsWith(`request off the origin: ${op.issuer}/`)),
        ).toEqual([]);

        // Bob, in his own browser: his tenant's server only; a wrong password is refused at the provider.
        const bobContext = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        cleanUps.push(() => bobContext.close());
        const bobPage = await bobContext.newPage();
        // A callback this tab never started (a forged or replayed code) signs no one in and says why.
        await bobPage.goto(`${server.origin}/auth/callback?code=forged&state=unknown`);
        await expect
          .poll(() => bobPage.getByRole('alert').textContent(), SOON)
          .toContain('Signing in with Test ID failed');
        expect(new URL(bobPage.url()).pathname).toBe('/');
        expect(await bobPage.getByRole('link', { name: 'Servers' }).count()).toBe(0);
        await bobPage.goto(`${server.origin}/`);
        await bobPage.getByRole('button', { name: 'Sign in with Test ID' }).click();
        await bobPage.getByLabel('Username').fill('bob');
        await bobPage.getByLabel('Password').fill('not-his');
        await bobPage.getByRole('button', { name: 'Sign in' }).click();
        await bobPage.getByText('Wrong username or password.').waitFor();
        await signInAtProvider(bobPage, server.origin, 'bob', 'bob-secret');
        await expect.poll(() => bobPage.getByTestId('signed-in-as').textContent(), SOON).toContain('bob');
        await row(bobPage, 'notes').waitFor(SOON);
        expect(await bobPage.locator('tr[data-server-name]').count()).toBe(1);
        expect(await row(bobPage, 'weather').count()).toBe(0);
        await screenshot(bobPage, `${configuration}-oidc-other-tenant`);
        await bobContext.close();
        await annContext.close();
      },
    );
  },
);
