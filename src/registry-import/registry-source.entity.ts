import { Entity, Filter, Index, ManyToOne, Property, type Ref, Unique } from '@mikro-orm/core';
import type { SealedValue } from '../crypto/keyring.js';
import { BaseEntity } from '../db/base.entity.js';
import { tenantScoped } from '../db/tenant-scope.js';
import { Tenant } from '../tenants/tenant.entity.js';

type RegistrySourceDefaults =
  | 'search'
  | 'discover'
  | 'sealedHeaders'
  | 'syncedThrough'
  | 'lastImportAt'
  | 'lastError'
  | 'nextSyncAt';

/**
 * An upstream MCP registry (its base URL, before `/v0.1`) that a tenant imports servers from, with what the
 * next run needs: the search it was imported with, the headers the upstream wants (sealed like server
 * credentials), and how far it has been read (`syncedThrough`, sent as `updated_since`).
 */
@Entity({ tableName: 'registry_sources' })
@Filter(tenantScoped<RegistrySource>((scope) => ({ tenant: scope.tenantId })))
@Unique({ name: 'registry_sources_tenant_id_url_search_unique', properties: ['tenant', 'url', 'search'] })
// The scheduled sync claims the sources whose next sync is due.
@Index({ name: 'registry_sources_next_sync_at_idx', properties: ['nextSyncAt'] })
export class RegistrySource extends BaseEntity<RegistrySourceDefaults> {
  @ManyToOne(() => Tenant, { ref: true, deleteRule: 'cascade' })
  tenant: Ref<Tenant>;

  /** The registry's base URL, normalised (no trailing slash, no `/v0.1`). */
  @Property({ type: 'text' })
  url: string;

  /** The `search` every run sends; empty for none (so the unique constraint covers it). */
  @Property({ type: 'text', default: '' })
  search: string = '';

  /** Whether the servers of this source are asked for their capabilities when they are imported. */
  @Property({ type: 'boolean', default: false })
  discover: boolean = false;

  /** Headers sent to the upstream registry, sealed for this row (source-headers.ts). Never exposed. */
  @Property({ fieldName: 'headers', type: 'json', nullable: true, hidden: true, lazy: true })
  sealedHeaders: SealedValue | null = null;

  /** The newest upstream `updatedAt` seen: the next run asks only for entries updated after it. */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  syncedThrough: Date | null = null;

  @Property({ type: 'datetime', columnType: 'timestamptz(3)', nullable: true })
  lastImportAt: Date | null = null;

  /** Why the last scheduled sync failed (an error code and message); null after a run that worked. */
  @Property({ type: 'text', nullable: true })
  lastError: string | null = null;

  /** When the scheduled sync should run next; claiming a source moves it one interval ahead. */
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  nextSyncAt: Date = new Date();

  constructor(tenant: Ref<Tenant>, url: string, search: string) {
    super();
    this.tenant = tenant;
    this.url = url;
    this.search = search;
  }
}
