import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { type DashboardSignIn, dashboardRoutes, dashboardSignIn } from '../src/http/dashboard-routes.js';

// How the served dashboard page learns to sign in with an identity provider, and what its CSP allows for it.

let directory: string;
const servers: Server[] = [];

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'dashboard-pages-'));
  await writeFile(path.join(directory, 'index.html'), '<div id="root"></div>');
  await writeFile(path.join(directory, 'graphiql.html'), '<div id="graphiql"></div>');
});

afterAll(async () => {
  for (const server of servers) server.close();
  await rm(directory, { recursive: true, force: true });
});

async function serve(signIn: DashboardSignIn | null): Promise<string> {
  const app = express();
  app.use(dashboardRoutes({ introspection: false, signIn, directory }).routes);
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('dashboard sign-in settings', () => {
  it('come from OIDC_* only with OIDC_CLIENT_ID, for the first issuer, named by its host by default', () => {
    const oidc = (env: Record<string, string>) =>
      loadConfig({
        OIDC_ISSUER: 'https://id.example.com/realms/a, https://other.example.org',
        OIDC_AUDIENCE: 'urn:g',
        ...env,
      }).security.oidc;
    expect(dashboardSignIn(oidc({}))).toBeNull();
    expect(dashboardSignIn(loadConfig({}).security.oidc)).toBeNull();
    expect(dashboardSignIn(oidc({ OIDC_CLIENT_ID: 'dash' }))).toEqual({
      issuer: 'https://id.example.com/realms/a',
      clientId: 'dash',
      scope: 'openid profile email',
      resource: undefined,
      providerName: 'id.example.com',
    });
    expect(dashboardSignIn(oidc({ OIDC_CLIENT_ID: 'dash', OIDC_PROVIDER_NAME: 'Acme' }))?.providerName).toBe(
      'Acme',
    );
  });

  it('are written on the root element, escaped, and the issuer joins connect-src; /auth/callback serves the page', async () => {
    const origin = await serve({
      issuer: 'https://id.example.com/realms/a',
      clientId: 'dash"><script>',
      scope: 'openid api',
      resource: 'urn:gateway',
      providerName: "O'Brien & Co",
    });
    for (const pathname of ['/', '/auth/callback']) {
      const response = await fetch(`${origin}${pathname}`);
      expect(response.status).toBe(200);
      const page = await response.text();
      expect(page).toContain('data-oidc-issuer="https://id.example.com/realms/a"');
      expect(page).toContain('data-oidc-client-id="dash&#34;&#62;&#60;script&#62;"');
      expect(page).toContain('data-oidc-resource="urn:gateway"');
      expect(page).toContain('data-oidc-provider-name="O&#39;Brien &#38; Co"');
      expect(page).not.toContain('<script>');
      expect(response.headers.get('content-security-policy')).toMatch(
        /connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+ https:\/\/id\.example\.com;/,
      );
    }
  });

  it('are absent with keys only: no attributes, no issuer in the CSP, no callback path', async () => {
    const origin = await serve(null);
    const response = await fetch(`${origin}/`);
    expect(await response.text()).toBe('<div id="root"></div>');
    expect(response.headers.get('content-security-policy')).toMatch(
      /connect-src 'self' ws:\/\/\S+ wss:\/\/[^ ;]+;/,
    );
    expect((await fetch(`${origin}/auth/callback`)).status).toBe(404);
  });
});
