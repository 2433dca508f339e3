import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresAvailable, redisAvailable } from '../support/database.js';
import { startStreamableHttpServer } from '../support/mcp-servers.js';
import { browserTestsRun, launchChromium, screenshot, watchForProblems } from './support/browser.js';
import { type Configuration, startConfiguration } from './support/configurations.js';
import { callOk, createTestTenant } from './support/contract-calls.js';
import { type ServerProcess } from './support/server-process.js';

/**
 * The dashboard and GraphiQL in a real browser (headless Chromium), against the built server started as users
 * start it, on the embedded default and on PostgreSQL + Redis: sign in with a key, see the tenant's servers,
 * watch one turn UNHEALTHY when its MCP server stops, without reloading; every page loads from the API's own
 * origin (no CDN) without console errors.
 */

/** Fast probes, so a stopped server is UNHEALTHY after its first failed check. */
const PROBING = { HEALTH_CHECK_INTERVAL_MS: '300', HEALTH_UNHEALTHY_AFTER: '1', HEALTH_HEALTHY_AFTER: '1' };

interface Seeded {
  readonly viewerKey: string;
  readonly weatherId: string;
  readonly virtualServerId: string;
}

/** A tenant with two registered MCP servers, a virtual server over them, and a READ key for the dashboard. */
async function seed(graphqlUrl: string, adminKey: string, upstreams: { weather: string; notes: string }) {
  const { writer, key, register } = await createTestTenant(graphqlUrl, adminKey, 'dashboard');
  const weatherId = await register('weather', upstreams.weather);
  const notesId = await register('notes', upstreams.notes);
  const { createVirtualServer } = await callOk<{ createVirtualServer: { id: string } }>(
    graphqlUrl,
    writer,
    'CreateVirtualServer',
    { input: { name: 'assistant', members: [{ serverId: weatherId }, { serverId: notesId }] } },
  );
  return {
    viewerKey: await key(['READ']),
    weatherId,
    virtualServerId: createVirtualServer.id,
  } satisfies Seeded;
}

const catalog = (name: string, tools: string[]) => ({
  name,
  version: '1.0.0',
  tools: tools.map((tool) => ({
    name: tool,
    description: `${tool} of ${name}`,
    inputSchema: { type: 'object' as const },
  })),
  prompts: [{ name: `${name}-brief`, description: `A ${name} briefing` }],
});

/** For what happens in the background (probes, events, workers): a generous deadline, not a measure of speed. */
const SOON = { timeout: 30_000 };

const row = (page: Page, serverName: string) => page.locator(`tr[data-server-name="${serverName}"]`);

describe.skipIf(!browserTestsRun() || !postgresAvailable() || !redisAvailable())(
  'the dashboard in a browser',
  () => {
    let workDir: string;
    let browser: Browser;
    const processes: ServerProcess[] = [];
    const cleanUps: (() => Promise<unknown>)[] = [];

    beforeAll(async () => {
      workDir = await mkdtemp(path.join(tmpdir(), 'mcp-dashboard-'));
      browser = await launchChromium();
    });

    afterAll(async () => {
      await browser?.close();
      const codes = await Promise.all(processes.map((server) => server.stop()));
      for (const cleanUp of cleanUps) await cleanUp().catch(() => undefined);
      await rm(workDir, { recursive: true, force: true });
      expect(codes.every((code) => code === 0)).toBe(true);
    });

    const startIn = (configuration: Configuration) =>
      startConfiguration(configuration, { workDir, env: PROBING, processes, cleanUps });

    it.each(['embedded', 'production'] as const)(
      '%s: sign in, servers go UNHEALTHY live, every page renders',
      async (configuration) => {
        const weather = await startStreamableHttpServer(catalog('weather', ['forecast', 'alerts']));
        const notes = await startStreamableHttpServer(catalog('notes', ['write']));
        cleanUps.push(
          () => weather.close(),
          () => notes.close(),
        );
        const { server, adminKey } = await startIn(configuration);
        const seeded = await seed(server.url, adminKey, { weather: weather.url, notes: notes.url });

        const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
        cleanUps.push(() => context.close());
        const page = await context.newPage();
        const problems = watchForProblems(page, server.origin);

        // A wrong key is refused on the sign-in page, with what to do about it.
        await page.goto(`${server.origin}/`);
        // Without OIDC_CLIENT_ID, keys are the only way in.
        await page.getByLabel('API key').waitFor();
        expect(await page.getByRole('button', { name: /^Sign in with/ }).count()).toBe(0);
        await page.getByLabel('API key').fill('not-a-key-at-all');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await expect
          .poll(() => page.locator('[role="alert"]').getAttribute('data-code'), SOON)
          .toBe('UNAUTHENTICATED');
        // The refused request is the only thing the browser may complain about.
        expect(problems.splice(0).filter((problem) => !problem.includes('status of 401'))).toEqual([]);

        await page.getByLabel('API key').fill(seeded.viewerKey);
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByRole('heading', { name: 'Overview' }).waitFor();
        await page.locator('[data-live="connected"]').waitFor();
        await expect.poll(() => page.getByTestId('health-summary').textContent(), SOON).toContain('Servers2');
        await screenshot(page, `${configuration}-overview`);

        await page.getByRole('link', { name: 'Servers', exact: true }).click();
        await row(page, 'weather').locator('[data-health="HEALTHY"]').waitFor(SOON);
        await row(page, 'notes').locator('[data-health="HEALTHY"]').waitFor(SOON);
        // Only the tenant's own servers, with their tool counts.
        const listed = await page
          .locator('tr[data-server-name]')
          .evaluateAll((rows) =>
            rows.map((tr) => `${tr.getAttribute('data-server-name')}:${tr.children[6]?.textContent}`),
          );
        expect(listed.sort()).toEqual(['notes:1', 'weather:2']);
        await screenshot(page, `${configuration}-servers`);

        // Stop the weather server: its row turns UNHEALTHY by itself, in the same page (no navigation, no reload).
        await page.evaluate(() => Object.assign(globalThis, { untouched: true }));
        await weather.close();
        await row(page, 'weather').locator('[data-health="UNHEALTHY"]').waitFor(SOON);
        expect(await page.evaluate(() => (globalThis as { untouched?: boolean }).untouched)).toBe(true);
        await expect
          .poll(() => row(page, 'notes').locator('[data-health]').getAttribute('data-health'), SOON)
          .toBe('HEALTHY');
        await screenshot(page, `${configuration}-servers-unhealthy`);

        // The server's page: its tools, prompts and health history, the failed check included.
        await row(page, 'weather').getByRole('link', { name: 'weather' }).click();
        await page.getByRole('heading', { name: 'weather' }).waitFor();
        await page.getByRole('table', { name: 'Tools' }).getByText('forecast', { exact: true }).waitFor();
        await page.getByText('weather-brief').waitFor();
        await page
          .getByRole('table', { name: 'Health history' })
          .locator('[data-health="UNHEALTHY"]')
          .first()
          .waitFor();
        await screenshot(page, `${configuration}-server-detail`);

        // Virtual servers, with the endpoint an agent connects to.
        await page.getByRole('link', { name: 'Virtual servers' }).click();
        await page.getByText(`${server.origin}/mcp/${seeded.virtualServerId}`).waitFor();
        await screenshot(page, `${configuration}-virtual-servers`);

        // GraphiQL from the API's own bundle, with the dashboard's key in its headers: a query runs.
        await page.getByRole('link', { name: 'GraphiQL' }).click();
        await page.locator('.graphiql-container').waitFor();
        // Its editors load in workers: run the query once the editor shows it (Monaco draws spaces as U+00A0).
        const queryEditorText = async () =>
          (await page.locator('.graphiql-query-editor').textContent())?.replaceAll('\u00a0', ' ');
        await expect.poll(queryEditorText, SOON).toContain('servers(first: 10)');
        await page.locator('.graphiql-execute-button').click();
        await expect.poll(() => page.locator('.result-window').textContent(), SOON).toContain('weather');
        await screenshot(page, `${configuration}-graphiql`);

        // A subscription in GraphiQL runs over graphql-ws with the same key: the notes server stops, and its
        // change of health appears in the result pane.
        const subscription = 'subscription { serverHealthChanged { server { name } status } }';
        await page.goto(`${server.origin}/graphql?query=${encodeURIComponent(subscription)}`);
        await expect.poll(queryEditorText, SOON).toContain('serverHealthChanged');
        await page.locator('.graphiql-execute-button').click();
        await new Promise((resolve) => setTimeout(resolve, 1000));
        await notes.close();
        await expect.poll(() => page.locator('.result-window').textContent(), SOON).toContain('notes');
        await screenshot(page, `${configuration}-graphiql-subscription`);

        expect(problems).toEqual([]);
        await context.close();
      },
    );
  },
);
