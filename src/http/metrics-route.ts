import type http from 'node:http';
import { type Request, type Response, Router } from 'express';
import { GraphQLError } from 'graphql';
import type { Admission } from '../auth/admission.js';
import type { Orm } from '../db/orm.js';
import { ApiKeyScope, requireAnyScope } from '../graphql/access.js';
import { httpStatusOfCode } from '../graphql/errors.js';
import type { Logger } from '../logger.js';
import { type IpRange, matchesAny } from '../net/ip-range.js';
import type { Metrics } from '../observability/metrics.js';
import { refusalHeaders } from './admission-refusals.js';

export interface MetricsRouteOptions {
  readonly metrics: Metrics;
  readonly orm: Orm;
  readonly admission: Admission;
  readonly clientIpOf: (req: http.IncomingMessage) => string | null;
  /** Scrapers at these addresses need no key (METRICS_ALLOW). */
  readonly allow: readonly IpRange[];
  readonly log: Logger;
}

/**
 * `GET /metrics`: the Prometheus text format, for a key with METRICS (ADMIN implies it) or a scraper whose
 * address is in METRICS_ALLOW. Anyone else gets the same 401 / 403 / 429 as /graphql would give.
 */
export function metricsRoute(options: MetricsRouteOptions): Router {
  const { metrics, admission, log } = options;
  const router = Router();
  router.get('/metrics', async (req: Request, res: Response) => {
    const clientIp = options.clientIpOf(req);
    if (!matchesAny(clientIp, options.allow)) {
      try {
        requireAnyScope(await admission.admit(options.orm.em.fork(), req.headers.authorization, clientIp), [
          ApiKeyScope.METRICS,
        ]);
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        const code = String(error.extensions.code);
        res.set(refusalHeaders(error));
        res.status(httpStatusOfCode(code)).json({ error: { code, message: error.message } });
        return;
      }
    }
    try {
      const body = await metrics.registry.metrics();
      // Written as is: res.send would add a charset to Prometheus's content type.
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'metrics not collected');
      res
        .status(503)
        .json({ error: { code: 'SERVICE_UNAVAILABLE', message: 'Metrics could not be read now.' } });
    }
  });
  return router;
}
