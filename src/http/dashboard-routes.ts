import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import type { OidcSettings } from '../config.js';
import { projectRoot } from '../project-root.js';

/** Where `npm run build` puts the dashboard and GraphiQL (dashboard/vite.config.ts). */
export const DASHBOARD_DIR = path.join(projectRoot, 'dist/dashboard');

/**
 * Everything a page loads comes from this origin: the policy makes a stray CDN reference fail loudly in the
 * browser instead of silently depending on the network. Charts and the editor set inline styles.
 */
function contentSecurityPolicy(req: Request, signIn: DashboardSignIn | null): string {
  const host = req.headers.host ?? '';
  // Signing in with the identity provider fetches its discovery document and token endpoint from the page.
  const issuer = signIn === null ? '' : ` ${new URL(signIn.issuer).origin}`;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}${issuer}`,
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** A browser navigating to /graphql wants GraphiQL; API clients (GET queries included) want JSON. */
function wantsPage(req: Request): boolean {
  return req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * How the dashboard signs people in with the identity provider (authorization code flow with PKCE, as a public
 * client); the page reads it from its root element (dashboard/src/sign-in-settings.ts).
 */
export interface DashboardSignIn {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  readonly resource: string | undefined;
  /** "Sign in with <providerName>". */
  readonly providerName: string;
}

/** Where the identity provider sends the browser back to: register `<origin>/auth/callback` at the provider. */
export const SIGN_IN_CALLBACK_PATH = '/auth/callback';

/** Sign-in with the first issuer, when OIDC_CLIENT_ID names the dashboard's client there. */
export function dashboardSignIn(oidc: OidcSettings | null): DashboardSignIn | null {
  const issuer = oidc?.issuers[0];
  if (oidc === null || oidc.clientId === undefined || issuer === undefined) return null;
  return {
    issuer,
    clientId: oidc.clientId,
    scope: oidc.scopes,
    resource: oidc.resource,
    providerName: oidc.providerName ?? new URL(issuer).host,
  };
}

export interface DashboardOptions {
  /** Whether the API answers introspection: GraphiQL's schema explorer asks only when it does. */
  readonly introspection: boolean;
  /** `null`: the dashboard signs in with API keys only. */
  readonly signIn?: DashboardSignIn | null;
  readonly directory?: string;
}

const escapeAttribute = (value: string): string =>
  value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

function signInAttributes(signIn: DashboardSignIn | null): string {
  if (signIn === null) return '';
  const attributes: [string, string | undefined][] = [
    ['data-oidc-issuer', signIn.issuer],
    ['data-oidc-client-id', signIn.clientId],
    ['data-oidc-scope', signIn.scope],
    ['data-oidc-resource', signIn.resource],
    ['data-oidc-provider-name', signIn.providerName],
  ];
  return attributes
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeAttribute(value)}"`)
    .join('');
}

/**
 * `GET /` serves the dashboard and `GET /graphql` from a browser serves GraphiQL, both from our own bundle.
 * Assets have content-hashed names and are cached for a year; the pages themselves are always revalidated.
 */
/** The two pages, or null when the dashboard is not built (or half-built: a build is under way). */
function readPages(
  directory: string,
  introspection: boolean,
  signIn: DashboardSignIn | null,
): { dashboard: string; graphiql: string } | null {
  try {
    return {
      dashboard: readFileSync(path.join(directory, 'index.html'), 'utf8').replace(
        'id="root"',
        `id="root"${signInAttributes(signIn)}`,
      ),
      // The page reads the setting from its root element (graphiql/main.tsx).
      graphiql: readFileSync(path.join(directory, 'graphiql.html'), 'utf8').replace(
        'id="graphiql"',
        `id="graphiql" data-introspection="${introspection ? 'on' : 'off'}"`,
      ),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export interface DashboardRoutes {
  /** `GET /` and `/assets/*`. */
  readonly routes: Router;
  /** GraphiQL for a browser's `GET /graphql`, mounted first in the /graphql chain; API requests pass on. */
  readonly graphiql: RequestHandler;
}

export function dashboardRoutes({
  introspection,
  signIn = null,
  directory = DASHBOARD_DIR,
}: DashboardOptions): DashboardRoutes {
  const routes = Router();
  const pages = readPages(directory, introspection, signIn);
  if (pages === null) {
    // Run from sources without a build (npm run dev): say so at `/`; /graphql answers as an API only.
    routes.get('/', (_req, res) => {
      res
        .status(404)
        .type('text/plain')
        .send('The dashboard is not built: run `npm run build` (npm start does).\n');
    });
    return { routes, graphiql: (_req, _res, next) => next() };
  }
  const sendPage = (page: keyof typeof pages, req: Request, res: Response) => {
    res.setHeader('content-security-policy', contentSecurityPolicy(req, signIn));
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(pages[page]);
  };
  routes.get('/', (req, res) => sendPage('dashboard', req, res));
  // The page finishes the code flow there and moves itself to `/`, so the code never stays in the address bar.
  if (signIn !== null) routes.get(SIGN_IN_CALLBACK_PATH, (req, res) => sendPage('dashboard', req, res));
  routes.use(
    '/assets',
    express.static(path.join(directory, 'assets'), {
      immutable: true,
      maxAge: '1y',
      fallthrough: false,
      index: false,
    }),
  );
  const graphiql = (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' && req.path === '/' && wantsPage(req)) sendPage('graphiql', req, res);
    else next();
  };
  return { routes, graphiql };
}
