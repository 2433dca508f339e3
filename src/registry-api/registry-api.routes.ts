import type http from 'node:http';
import cors from 'cors';
import { type NextFunction, type Request, type Response, Router } from 'express';
import { GraphQLError } from 'graphql';
import type { Admission } from '../auth/admission.js';
import type { Keyring } from '../crypto/keyring.js';
import type { Orm } from '../db/orm.js';
import { scopeToTenant } from '../db/tenant-scope.js';
import { ApiKeyScope, requireAnyScope, tenantScopeOf } from '../graphql/access.js';
import { httpStatusOfCode } from '../graphql/errors.js';
import { refusalHeaders } from '../http/admission-refusals.js';
import { requestId } from '../http/request-middleware.js';
import type { Logger } from '../logger.js';
import { decodeCursor, type ListQuery, RegistryApiService } from './registry-api.service.js';

export interface RegistryApiOptions {
  readonly orm: Orm;
  readonly admission: Admission;
  readonly clientIpOf: (req: http.IncomingMessage) => string | null;
  readonly keyring: Keyring;
  readonly namespaceBase: string;
  readonly publicOrigin: () => string;
  readonly log: Logger;
}

/** Page sizes the list accepts; the official registry's bounds. */
const DEFAULT_LIMIT = 30;
const MAX_LIMIT = 100;

/** A request the OpenAPI document answers with `{ error }` and a 4xx status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The MCP Registry API v0.1, read endpoints: `GET /v0.1/servers`, `/v0.1/servers/{serverName}/versions` and
 * `/v0.1/servers/{serverName}/versions/{version}`. Requests are admitted like /graphql ones (keys, lockout,
 * rate limits), need READ, and see only the key's tenant and allowed servers. Errors are `{ error: string }`,
 * as the OpenAPI document gives them.
 */
export function registryApiRoutes(options: RegistryApiOptions): Router {
  const { orm, admission, log } = options;
  const router = Router();
  router.use(
    '/v0.1',
    requestId,
    cors({ exposedHeaders: ['www-authenticate', 'retry-after', 'x-request-id'] }),
  );

  const serviceFor = async (req: Request): Promise<RegistryApiService> => {
    const em = orm.em.fork();
    const viewer = requireAnyScope(
      await admission.admit(em, req.headers.authorization, options.clientIpOf(req)),
      [ApiKeyScope.READ],
    );
    scopeToTenant(em, tenantScopeOf(viewer));
    return new RegistryApiService(em, {
      namespaceBase: options.namespaceBase,
      keyring: options.keyring,
      publicOrigin: options.publicOrigin,
    });
  };

  const handle =
    (work: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response, _next: NextFunction): Promise<void> => {
      try {
        await work(req, res);
      } catch (error) {
        if (error instanceof Refusal) {
          res.status(error.status).json({ error: error.message });
        } else if (error instanceof GraphQLError) {
          res.set(refusalHeaders(error));
          res.status(httpStatusOfCode(error.extensions.code)).json({ error: error.message });
        } else {
          log.error(
            { err: error instanceof Error ? error.message : String(error) },
            'Registry API request failed',
          );
          res.status(500).json({ error: 'Something went wrong on our side.' });
        }
      }
    };

  router.get(
    '/v0.1/servers',
    handle(async (req, res) => {
      // The key first: a caller without one learns nothing, not even which parameters are wrong.
      const service = await serviceFor(req);
      res.json(await service.list(listQueryOf(req.query)));
    }),
  );
  router.get(
    '/v0.1/servers/:serverName/versions',
    handle(async (req, res) => {
      const service = await serviceFor(req);
      const includeDeleted = booleanParam(req.query, 'include_deleted') ?? false;
      const versions = await service.versions(String(req.params.serverName), includeDeleted);
      if (versions === null) throw new Refusal(404, 'Server not found');
      res.json({ servers: versions, metadata: { count: versions.length } });
    }),
  );
  router.get(
    '/v0.1/servers/:serverName/versions/:version',
    handle(async (req, res) => {
      const service = await serviceFor(req);
      const includeDeleted = booleanParam(req.query, 'include_deleted') ?? false;
      const name = String(req.params.serverName);
      const versions = await service.versions(name, includeDeleted);
      if (versions === null) throw new Refusal(404, 'Server not found');
      const version = String(req.params.version);
      const answer = versions.find(
        (candidate) => version === 'latest' || candidate.server.version === version,
      );
      if (answer === undefined) throw new Refusal(404, 'Server version not found');
      res.json(answer);
    }),
  );
  return router;
}

type Query = Request['query'];

function stringParam(query: Query, name: string): string | null {
  const value = query[name];
  if (value === undefined) return null;
  if (typeof value !== 'string')
    throw new Refusal(400, `Query parameter ${name} must be given once, as text`);
  return value;
}

function booleanParam(query: Query, name: string): boolean | null {
  const value = stringParam(query, name);
  if (value === null) return null;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new Refusal(400, `Query parameter ${name} must be true or false`);
}

/** RFC 3339 date-times, as `updated_since` takes them (a zone is required). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function listQueryOf(query: Query): ListQuery {
  const limitText = stringParam(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (limitText !== null) {
    limit = /^\d+$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new Refusal(400, `Query parameter limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }
  }
  const cursorText = stringParam(query, 'cursor');
  const after = cursorText === null || cursorText === '' ? null : decodeCursor(cursorText);
  if (cursorText !== null && cursorText !== '' && after === null) {
    throw new Refusal(400, 'Invalid cursor: use the exact metadata.nextCursor of a previous page');
  }
  const sinceText = stringParam(query, 'updated_since');
  let updatedSince: Date | null = null;
  if (sinceText !== null) {
    updatedSince = RFC3339.test(sinceText) ? new Date(sinceText) : null;
    if (updatedSince === null || Number.isNaN(updatedSince.getTime())) {
      throw new Refusal(
        400,
        'Query parameter updated_since must be an RFC 3339 date-time, e.g. 2025-08-07T13:15:04.280Z',
      );
    }
  }
  const search = stringParam(query, 'search');
  const version = stringParam(query, 'version');
  if (version === '') throw new Refusal(400, "Query parameter version must be 'latest' or an exact version");
  // The OpenAPI document: deleted servers are always included when updated_since is given.
  const includeDeleted = updatedSince !== null || (booleanParam(query, 'include_deleted') ?? false);
  return { limit, after, search: search === '' ? null : search, updatedSince, version, includeDeleted };
}
