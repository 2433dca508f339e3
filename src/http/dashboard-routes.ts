import { readFileSync } from 'node:fs';
import path from 'node:path';
import express, {
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  Router,
} from 'express';
import { projectRoot } from '../project-root.js';

/** Where `npm run build` puts the dashboard and GraphiQL (dashboard/vite.config.ts). */
export const DASHBOARD_DIR = path.join(projectRoot, 'dist/dashboard');

/**
 * Everything a page loads comes from this origin: the policy makes a stray CDN reference fail loudly in the
 * browser instead of silently depending on the network. Charts and the editor set inline styles.
 */
function contentSecurityPolicy(req: Request): string {
  const host = req.headers.host ?? '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}`,
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

export interface DashboardOptions {
  /** Whether the API answers introspection: GraphiQL's schema explorer asks only when it does. */
  readonly introspection: boolean;
  readonly directory?: string;
}

/**
 * `GET /` serves the dashboard and `GET /graphql` from a browser serves GraphiQL, both from our own bundle.
 * Assets have content-hashed names and are cached for a year; the pages themselves are always revalidated.
 */
/** The two pages, or null when the dashboard is not built (or half-built: a build is under way). */
function readPages(
  directory: string,
  introspection: boolean,
): { dashboard: string; graphiql: string } | null {
  try {
    return {
      dashboard: readFileSync(path.join(directory, 'index.html'), 'utf8'),
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
  directory = DASHBOARD_DIR,
}: DashboardOptions): DashboardRoutes {
  const routes = Router();
  const pages = readPages(directory, introspection);
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
    res.setHeader('content-security-policy', contentSecurityPolicy(req));
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('cache-control', 'no-cache');
    res.type('html').send(pages[page]);
  };
  routes.get('/', (req, res) => sendPage('dashboard', req, res));
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
