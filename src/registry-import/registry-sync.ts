import type { AuditActor } from '../audit/audit-trail.js';
import type { AppConfig } from '../config.js';
import type { Keyring } from '../crypto/keyring.js';
import { claimDue } from '../db/claim-due.js';
import type { Orm } from '../db/orm.js';
import { ApiKeyScope, type Viewer } from '../graphql/access.js';
import type { Logger } from '../logger.js';
import { importRegistryServers } from './registry-import.service.js';
import { RegistrySource } from './registry-source.entity.js';
import { normalizeRegistryUrl } from './upstream-registry.js';

/** The scheduled sync as the audit trail shows it: no key, no user. */
const SYNC_ACTOR: AuditActor = { tenantId: null, userId: null, apiKeyId: null, ipAddress: null };

/** The scheduled sync as the services see it: the platform, acting for the source's tenant. */
const SYNC_VIEWER: Viewer = {
  principalId: 'registry-sync',
  apiKeyId: null,
  tenantId: null,
  userId: null,
  scopes: new Set([ApiKeyScope.ADMIN]),
  managesTenant: false,
  allowedServers: null,
  rateLimitPerHour: null,
  rateLimitPerDay: null,
  expiresAt: null,
};

interface ClaimedSource {
  id: string;
  tenant_id: string;
  url: string;
  search: string;
}

/** Sources synced at once per instance. */
const SYNC_CONCURRENCY = 2;

/**
 * Keeps the import sources of the upstreams in REGISTRY_SYNC_URLS current: each interval an instance claims the
 * due sources (`FOR UPDATE SKIP LOCKED`, moving their next sync one interval ahead in the same statement, as the
 * health checker claims probes), so a fleet syncs each source once per interval. A sync is an import as
 * `importRegistryServers` runs it (incremental, with the source's stored headers and discover setting, audited
 * as `registry.import`); one that fails keeps its error on the source and is tried again next interval.
 */
export class RegistrySync {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private readonly urls: string[];

  constructor(
    private readonly orm: Orm,
    private readonly config: Pick<AppConfig, 'registryImport' | 'circuit' | 'health'>,
    private readonly log: Logger,
    private readonly keyring: Keyring,
  ) {
    this.urls = [...new Set(config.registryImport.syncUrls.map(normalizeRegistryUrl))];
  }

  start(): void {
    if (this.urls.length === 0) return;
    const tickMs = Math.min(this.config.registryImport.syncIntervalMs, 5000);
    this.timer = setInterval(() => {
      this.running ??= this.runDue()
        .catch((error: unknown) => this.log.error({ err: error }, 'registry sync round failed'))
        .finally(() => {
          this.running = undefined;
        });
    }, tickMs);
    this.timer.unref();
    this.log.info(
      { urls: this.urls, intervalMs: this.config.registryImport.syncIntervalMs },
      'registry sync on',
    );
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Claims and syncs due sources until none is due. Returns how many were synced (failed ones included). */
  async runDue(): Promise<number> {
    if (this.urls.length === 0) return 0;
    let synced = 0;
    for (;;) {
      const claimed = await claimDue<ClaimedSource>(
        this.orm.em.fork(),
        {
          table: 'registry_sources',
          where: 'url in (?) and next_sync_at <= now()',
          orderBy: 'next_sync_at',
          set: "next_sync_at = now() + (? * interval '1 millisecond')",
          returning: 'claimed.id, claimed.tenant_id, claimed.url, claimed.search',
        },
        { where: [this.urls], limit: SYNC_CONCURRENCY, set: [this.config.registryImport.syncIntervalMs] },
      );
      await Promise.all(claimed.map((source) => this.sync(source)));
      synced += claimed.length;
      if (claimed.length < SYNC_CONCURRENCY) return synced;
    }
  }

  private async sync(source: ClaimedSource): Promise<void> {
    const em = this.orm.em.fork();
    try {
      const report = await importRegistryServers(
        em,
        { ...SYNC_ACTOR, tenantId: source.tenant_id },
        SYNC_VIEWER,
        { url: source.url, tenantId: source.tenant_id, search: source.search === '' ? null : source.search },
        {
          circuit: this.config.circuit,
          discoveryTimeoutMs: this.config.health.timeoutMs,
          allowStdio: this.config.health.allowStdio,
          keyring: this.keyring,
          fetchTimeoutMs: this.config.registryImport.timeoutMs,
        },
      );
      this.log.info(
        {
          sourceId: source.id,
          url: source.url,
          created: report.created,
          updated: report.updated,
          unchanged: report.unchanged,
          markedUpstream: report.markedUpstream,
          skipped: report.skipped.length,
        },
        'registry synced',
      );
    } catch (error) {
      const code =
        typeof error === 'object' && error !== null && 'extensions' in error
          ? String((error as { extensions: { code?: unknown } }).extensions.code)
          : 'INTERNAL_SERVER_ERROR';
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn({ sourceId: source.id, url: source.url, code, err: message }, 'registry sync failed');
      await em.fork().nativeUpdate(RegistrySource, { id: source.id }, { lastError: `${code}: ${message}` });
    }
  }
}
