import type { TestProject } from 'vitest/node';
import { probeServices } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Why each service is unusable, or null when it answers. */
    services: { postgres: string | null; redis: string | null };
  }
}

/**
 * Probes PostgreSQL and Redis once per run. On CI (CI=true) both are required; elsewhere tests that need a
 * missing service are skipped and the rest run on PGlite and in-process pub/sub, and this says so.
 */
export default async function setup(project: TestProject): Promise<void> {
  const services = await probeServices();
  const missing = [services.postgres, services.redis].filter((reason): reason is string => reason !== null);
  if (missing.length > 0 && process.env.CI === 'true') {
    throw new Error(`CI=true requires PostgreSQL and Redis: ${missing.join('; ')}`);
  }
  for (const reason of missing) {
    console.warn(`[tests] ${reason}: tests that need it are skipped; the API tests run on PGlite instead.`);
  }
  project.provide('services', services);
}
