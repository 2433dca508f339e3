import { type Request, type Response, Router } from 'express';
import type { Orm } from '../db/orm.js';
import type { Logger } from '../logger.js';
import type { EventBus } from '../pubsub/pubsub.js';

/**
 * `GET /healthz`: the process is up. `GET /readyz`: the database answers and every migration is applied,
 * so a load balancer sends traffic only to instances that can serve it.
 */
export function healthRoutes(orm: Orm, eventBus: EventBus, log: Logger): Router {
  const router = Router();
  router.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req: Request, res: Response) => {
    try {
      await orm.em.fork().execute('select 1');
      const pending = await orm.getMigrator().getPendingMigrations();
      if (pending.length > 0) {
        res.status(503).json({ status: 'migrations pending', pending: pending.map((m) => m.name) });
        return;
      }
      res.json({ status: 'ready', eventBus: eventBus.kind });
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'readiness check failed');
      res.status(503).json({ status: 'database unreachable' });
    }
  });
  return router;
}
