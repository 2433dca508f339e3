import { type AuditActor, audited, auditFailure } from '../audit/audit-trail.js';
import type { CircuitSettings } from '../config.js';
import { type Keyring, SealedValueError } from '../crypto/keyring.js';
import { isUniqueViolation } from '../db/errors.js';
import type { EntityManager } from '../db/orm.js';
import type { Viewer } from '../graphql/access.js';
import { ApiError, conflict, forbidden } from '../graphql/errors.js';
import type { JsonObject } from '../graphql/scalars.js';
import type { Inspection } from '../mcp/mcp-client.js';
import { discoverCapabilities, syncCapabilities } from '../registry/capabilities.js';
import { CircuitBreaker } from '../registry/circuit-breaker.entity.js';
import { movesElsewhere, openConnectionHeaders } from '../registry/connection-headers.js';
import { MCPServer } from '../registry/mcp-server.entity.js';
import { targetTenant } from '../registry/server.service.js';
import { requireHeaders } from '../registry/server-input.validation.js';
import { requireSearchLength } from '../registry/text-search.js';
import { Tenant } from '../tenants/tenant.entity.js';
import { ImportedServer, UpstreamStatus } from './imported-server.entity.js';
import { RegistrySource } from './registry-source.entity.js';
import { openSourceHeaders, sealSourceHeaders } from './source-headers.js';
import { readUpstreamEntry, type UpstreamEntry, type UpstreamServer } from './upstream-entry.js';
import { normalizeRegistryUrl, readUpstreamEntries, UpstreamRegistryError } from './upstream-registry.js';

export interface ImportRequest {
  /** The registry's base URL (before `/v0.1`). */
  readonly url: string;
  readonly tenantId?: string | null;
  readonly search?: string | null;
  readonly discover?: boolean | null;
  /** Headers for the upstream: given, they replace the stored ones (null drops them); absent, the stored ones. */
  readonly headers?: unknown;
  /** Ask for every entry (no `updated_since`); imported servers the listing no longer has are marked MISSING. */
  readonly full?: boolean | null;
}

export interface ImportProgress {
  /** Upstream entries read so far. */
  fetched(entries: number): void;
  /** Servers to ask for their capabilities, then each one asked. */
  discovering(total: number): void;
  discovered(): void;
}

export interface ImportSettings {
  readonly circuit: CircuitSettings;
  readonly discoveryTimeoutMs: number;
  readonly allowStdio: boolean;
  readonly keyring: Keyring;
  /** Deadline of each request to the upstream registry. */
  readonly fetchTimeoutMs: number;
  readonly progress?: ImportProgress;
}

export interface ImportNote {
  readonly name: string;
  readonly reason: string;
}

export interface ImportReport {
  readonly sourceId: string;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  readonly markedUpstream: number;
  readonly skipped: ImportNote[];
  /** Imported, but not asked for their capabilities (discover: true), and why. */
  readonly notDiscovered: ImportNote[];
  /** The `updated_since` the run sent; null for a full listing. */
  readonly since: Date | null;
}

const DISCOVERY_CONCURRENCY = 4;
const NAMES_PER_STATEMENT = 5000;

/** The validated request, with what the run found upstream and learned from the servers. */
interface Prepared {
  readonly tenant: Tenant;
  readonly url: string;
  readonly search: string;
  readonly discover: boolean;
  /** The headers to store on the source: undefined keeps the stored ones. */
  readonly newHeaders: Record<string, string> | null | undefined;
  readonly sourceId: string | null;
  readonly since: Date | null;
  readonly entries: UpstreamEntry[];
  readonly inspections: Map<string, Inspection>;
  readonly notDiscovered: ImportNote[];
}

/**
 * Imports the servers of an upstream registry (`GET {url}/v0.1/servers`, every page) into a tenant: entries
 * with a streamable-http or sse remote are registered, or updated when their entry changed upstream since they
 * were imported; deleted and deprecated entries are marked, never dropped; the rest is reported as skipped.
 * The upstream is read completely before anything is written, and the servers are asked (discover: true)
 * before the transaction: a failure of either changes nothing. One transaction writes every change and the
 * audit row; a run over N entries costs a constant number of statements (batched by name), not N.
 */
export async function importRegistryServers(
  em: EntityManager,
  actor: AuditActor,
  viewer: Viewer,
  request: ImportRequest,
  settings: ImportSettings,
): Promise<ImportReport> {
  const details: JsonObject = { url: request.url };
  const entry = { action: 'registry.import', resourceType: 'registry_source', details };
  let prepared: Prepared;
  try {
    prepared = await prepare(em, viewer, request, settings);
  } catch (error) {
    const failure = error instanceof UpstreamRegistryError ? error.toApiError() : error;
    await auditFailure(em, actor, entry, failure);
    throw failure;
  }
  details.url = prepared.url;
  return audited(em, actor, entry, async (tx) => {
    const report = await apply(tx, prepared, settings);
    Object.assign(details, {
      search: prepared.search,
      since: report.since?.toISOString() ?? null,
      created: report.created,
      updated: report.updated,
      unchanged: report.unchanged,
      markedUpstream: report.markedUpstream,
      skipped: report.skipped.length,
    });
    return { result: report, resourceId: report.sourceId };
  });
}

async function prepare(
  em: EntityManager,
  viewer: Viewer,
  request: ImportRequest,
  settings: ImportSettings,
): Promise<Prepared> {
  const url = normalizeRegistryUrl(request.url);
  const search = (request.search ?? '').trim();
  requireSearchLength(search, 'search');
  const newHeaders =
    request.headers === undefined
      ? undefined
      : request.headers === null
        ? null
        : requireHeaders(request.headers);
  if (viewer.allowedServers !== null) {
    throw forbidden('This key is limited to some servers: it cannot import new ones.');
  }
  const tenant = await targetTenant(em, viewer, request.tenantId);
  const source = await em.findOne(
    RegistrySource,
    { tenant: tenant.id, url, search },
    { populate: ['sealedHeaders'] },
  );
  const headers =
    newHeaders !== undefined
      ? newHeaders
      : source === null
        ? null
        : openSourceHeaders(settings.keyring, source.id, source.sealedHeaders);
  const since = request.full === true ? null : (source?.syncedThrough ?? null);
  const raw = await readUpstreamEntries(
    url,
    { search: search === '' ? null : search, updatedSince: since },
    { timeoutMs: settings.fetchTimeoutMs, headers },
    (count) => settings.progress?.fetched(count),
  );
  const entries = latestEntries(raw.map((item, index) => readUpstreamEntry(item, index)));
  const discover = request.discover ?? source?.discover ?? false;
  const inspections = new Map<string, Inspection>();
  const notDiscovered: ImportNote[] = [];
  if (discover) {
    const state = await loadState(em, source?.id ?? null, tenant.id, entries, since === null);
    const wanted = plan(entries, state, since === null)
      .flatMap((action) => (action.kind === 'create' || action.kind === 'update' ? [action] : []))
      .filter((action) => action.kind === 'create' || remoteChanged(action.row, action.entry));
    await discoverAll(em, wanted, settings, inspections, notDiscovered);
  }
  return {
    tenant,
    url,
    search,
    discover,
    newHeaders,
    sourceId: source?.id ?? null,
    since,
    entries,
    inspections,
    notDiscovered,
  };
}

/** One entry per name: the latest version (a registry that ignores `version=latest` lists every version). */
function latestEntries(entries: UpstreamEntry[]): UpstreamEntry[] {
  const byName = new Map<string, UpstreamEntry>();
  for (const entry of entries) {
    if (entry.kind === 'older') continue;
    const earlier = byName.get(entry.name);
    const newer =
      earlier === undefined ||
      earlier.kind === 'older' ||
      (entry.updatedAt?.getTime() ?? 0) >= (earlier.updatedAt?.getTime() ?? 0);
    if (newer) byName.set(entry.name, entry);
  }
  return [...byName.values()];
}

interface State {
  /** This source's imported servers, by upstream name (with their server rows). */
  readonly imported: Map<string, ImportedServer>;
  /** Names of the tenant's servers that this source did not import. */
  readonly taken: Set<string>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

/**
 * What is stored of the entries' names: a statement for this source's imported servers (all of them for a full
 * listing, which marks those it no longer has), one for the tenant's servers of the names still unknown.
 */
async function loadState(
  em: EntityManager,
  sourceId: string | null,
  tenantId: string,
  entries: readonly UpstreamEntry[],
  full: boolean,
): Promise<State> {
  const names = entries.map((entry) => entry.name);
  const imported = new Map<string, ImportedServer>();
  if (sourceId !== null) {
    const options = { populate: ['server'] as const, strategy: 'joined' as const };
    const batches = full ? [null] : chunks(names, NAMES_PER_STATEMENT);
    for (const batch of batches) {
      const rows = await em.find(
        ImportedServer,
        batch === null ? { source: sourceId } : { source: sourceId, upstreamName: { $in: batch } },
        options,
      );
      for (const row of rows) imported.set(row.upstreamName, row);
    }
  }
  const taken = new Set<string>();
  const unknown = names.filter((name) => !imported.has(name));
  for (const batch of chunks(unknown, NAMES_PER_STATEMENT)) {
    const rows = await em.find(
      MCPServer,
      { tenant: tenantId, name: { $in: batch } },
      { fields: ['id', 'name'] },
    );
    for (const row of rows) taken.add(row.name);
  }
  return { imported, taken };
}

type Action =
  | { readonly kind: 'create'; readonly entry: UpstreamServer }
  | { readonly kind: 'update'; readonly entry: UpstreamServer; readonly row: ImportedServer }
  | {
      readonly kind: 'mark';
      readonly row: ImportedServer;
      readonly status: UpstreamStatus;
      readonly statusMessage: string | null;
      readonly updatedAt: Date | null;
      /** The entry's other changes are applied too. */
      readonly entry: UpstreamServer | null;
    }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'skip'; readonly name: string; readonly reason: string };

const MARKED = new Set([UpstreamStatus.DEPRECATED, UpstreamStatus.DELETED, UpstreamStatus.MISSING]);

/** What the run does with each entry (and, for a full listing, with imported servers it no longer has). */
function plan(entries: readonly UpstreamEntry[], state: State, full: boolean): Action[] {
  const actions: Action[] = [];
  for (const entry of entries) {
    if (entry.kind === 'older') continue;
    const row = state.imported.get(entry.name);
    if (entry.kind === 'skip') {
      if (
        row !== undefined &&
        entry.status === UpstreamStatus.DELETED &&
        row.status !== UpstreamStatus.DELETED
      ) {
        actions.push({
          kind: 'mark',
          row,
          status: entry.status,
          statusMessage: null,
          updatedAt: entry.updatedAt,
          entry: null,
        });
      } else if (row !== undefined && entry.status === UpstreamStatus.DELETED) {
        actions.push({ kind: 'unchanged' });
      } else {
        actions.push({ kind: 'skip', name: entry.name, reason: entry.reason });
      }
      continue;
    }
    if (row === undefined) {
      if (entry.status === UpstreamStatus.DELETED) {
        actions.push({ kind: 'skip', name: entry.name, reason: 'deleted upstream (never imported here)' });
      } else if (state.taken.has(entry.name)) {
        actions.push({
          kind: 'skip',
          name: entry.name,
          reason:
            'this tenant has a server of that name already, not imported from this registry with this search',
        });
      } else {
        actions.push({ kind: 'create', entry });
      }
      continue;
    }
    const statusChanged = row.status !== entry.status || row.statusMessage !== entry.statusMessage;
    if (statusChanged && MARKED.has(entry.status)) {
      // A deleted entry's remote is left as it was: the server is marked, not moved.
      const rest = entry.status === UpstreamStatus.DELETED || !snapshotDiffers(row, entry) ? null : entry;
      actions.push({
        kind: 'mark',
        row,
        status: entry.status,
        statusMessage: entry.statusMessage,
        updatedAt: entry.updatedAt,
        entry: rest,
      });
    } else if (statusChanged || snapshotDiffers(row, entry)) {
      actions.push({ kind: 'update', entry, row });
    } else {
      actions.push({ kind: 'unchanged' });
    }
  }
  if (full) {
    const listed = new Set(entries.map((entry) => entry.name));
    for (const [name, row] of state.imported) {
      if (!listed.has(name) && row.status !== UpstreamStatus.MISSING) {
        actions.push({
          kind: 'mark',
          row,
          status: UpstreamStatus.MISSING,
          statusMessage: null,
          updatedAt: null,
          entry: null,
        });
      }
    }
  }
  return actions;
}

/** Whether the entry says anything else than when it was imported (its `updatedAt` alone does not count). */
function snapshotDiffers(row: ImportedServer, entry: UpstreamServer): boolean {
  return (
    row.upstreamVersion !== entry.version ||
    row.description !== entry.description ||
    remoteChanged(row, entry) ||
    row.requiredHeaders.join('\n') !== entry.requiredHeaders.join('\n')
  );
}

function remoteChanged(row: ImportedServer, entry: UpstreamServer): boolean {
  return row.remoteUrl !== entry.remoteUrl || row.remoteType !== entry.remoteType;
}

/** Asks new and moved servers for their capabilities, a few at a time; a server that cannot be read is noted. */
async function discoverAll(
  em: EntityManager,
  actions: readonly (
    | { kind: 'create'; entry: UpstreamServer }
    | { kind: 'update'; entry: UpstreamServer; row: ImportedServer }
  )[],
  settings: ImportSettings,
  inspections: Map<string, Inspection>,
  notDiscovered: ImportNote[],
): Promise<void> {
  const servers = actions.flatMap((action) =>
    action.kind === 'update' ? [action.row.server.getEntity()] : [],
  );
  if (servers.length > 0) await em.populate(servers, ['sealedHeaders']);
  const queue = [...actions];
  settings.progress?.discovering(queue.length);
  const work = async () => {
    for (let action = queue.shift(); action !== undefined; action = queue.shift()) {
      const { entry } = action;
      try {
        const headers =
          action.kind === 'update' ? headersAfterMove(action.row, entry, settings.keyring) : null;
        const missing = entry.requiredHeaders.filter((name) => headers?.[name] === undefined);
        if (missing.length > 0) {
          notDiscovered.push({ name: entry.name, reason: `needs credentials: ${missing.join(', ')}` });
          continue;
        }
        const inspection = await discoverCapabilities(
          { endpointUrl: entry.remoteUrl, transportType: entry.remoteType, headers },
          { timeoutMs: settings.discoveryTimeoutMs, allowStdio: settings.allowStdio },
        );
        inspections.set(discoveryKey(entry), inspection);
      } catch (error) {
        if (!(error instanceof ApiError) && !(error instanceof SealedValueError)) throw error;
        notDiscovered.push({ name: entry.name, reason: error.message });
      } finally {
        settings.progress?.discovered();
      }
    }
  };
  await Promise.all(Array.from({ length: DISCOVERY_CONCURRENCY }, work));
  notDiscovered.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const discoveryKey = (entry: UpstreamServer) => `${entry.name}\n${entry.remoteType}\n${entry.remoteUrl}`;

/** The stored headers a server keeps at its new remote: none once it moves to another origin. */
function headersAfterMove(
  row: ImportedServer,
  entry: UpstreamServer,
  keyring: Keyring,
): Record<string, string> | null {
  const server = row.server.getEntity();
  if (movesElsewhere(server.endpointUrl, entry.remoteUrl)) return null;
  return openConnectionHeaders(keyring, server.id, server.sealedHeaders);
}

async function apply(tx: EntityManager, prepared: Prepared, settings: ImportSettings): Promise<ImportReport> {
  const { tenant, url, search } = prepared;
  // Imports into one tenant run one after the other (two sources may list the same names): each plans from what
  // the one before it committed. An advisory lock, not a row lock: registrations in the tenant are not held up.
  await tx.execute('select pg_advisory_xact_lock(hashtext(?)) as locked', [`registry-import:${tenant.id}`]);
  let source = prepared.sourceId === null ? null : await tx.findOne(RegistrySource, prepared.sourceId);
  if (source === null) {
    source = new RegistrySource(tx.getReference(Tenant, tenant.id, { wrapped: true }), url, search);
    tx.persist(source);
  }
  const full = prepared.since === null;
  const state = await loadState(tx, prepared.sourceId, tenant.id, prepared.entries, full);
  const actions = plan(prepared.entries, state, full);
  const sourceRef = tx.getReference(RegistrySource, source.id, { wrapped: true });
  const counts = { created: 0, updated: 0, unchanged: 0, markedUpstream: 0 };
  const skipped: ImportNote[] = [];
  // Servers that move to another origin lose their stored headers (given for the old host): loaded in one batch.
  const moving = actions.flatMap((action) =>
    (action.kind === 'update' || (action.kind === 'mark' && action.entry !== null)) &&
    movesElsewhere(action.row.server.getEntity().endpointUrl, (action.entry as UpstreamServer).remoteUrl)
      ? [action.row.server.getEntity()]
      : [],
  );
  if (moving.length > 0) await tx.populate(moving, ['sealedHeaders']);
  for (const action of actions) {
    switch (action.kind) {
      case 'create': {
        const { entry } = action;
        const server = new MCPServer({
          tenant: tx.getReference(Tenant, tenant.id, { wrapped: true }),
          name: entry.name,
          endpointUrl: entry.remoteUrl,
          transportType: entry.remoteType,
        });
        server.description = entry.description;
        const serverRef = tx.getReference(MCPServer, server.id, { wrapped: true });
        const imported = new ImportedServer(serverRef, sourceRef, {
          upstreamName: entry.name,
          upstreamVersion: entry.version,
          status: entry.status,
          remoteUrl: entry.remoteUrl,
          remoteType: entry.remoteType,
        });
        copySnapshot(imported, entry);
        tx.persist([server, new CircuitBreaker(serverRef, settings.circuit), imported]);
        const inspection = prepared.inspections.get(discoveryKey(entry));
        if (inspection !== undefined) await syncCapabilities(tx, server, inspection);
        counts.created += 1;
        break;
      }
      case 'update':
        await applyEntry(tx, action.row, action.entry, prepared);
        counts.updated += 1;
        break;
      case 'mark':
        if (action.entry !== null) await applyEntry(tx, action.row, action.entry, prepared);
        action.row.status = action.status;
        action.row.statusMessage = action.statusMessage;
        if (action.updatedAt !== null) action.row.upstreamUpdatedAt = action.updatedAt;
        counts.markedUpstream += 1;
        break;
      case 'unchanged':
        counts.unchanged += 1;
        break;
      case 'skip':
        skipped.push({ name: action.name, reason: action.reason });
        break;
    }
  }
  const newest = prepared.entries.reduce<number>(
    (latest, entry) => Math.max(latest, entry.kind === 'older' ? 0 : (entry.updatedAt?.getTime() ?? 0)),
    source.syncedThrough?.getTime() ?? 0,
  );
  if (newest > 0) source.syncedThrough = new Date(newest);
  source.lastImportAt = new Date();
  source.lastError = null;
  source.discover = prepared.discover;
  if (prepared.newHeaders !== undefined) {
    source.sealedHeaders = sealSourceHeaders(settings.keyring, source.id, prepared.newHeaders);
  }
  try {
    await tx.flush();
  } catch (error) {
    if (
      isUniqueViolation(error, 'mcp_servers_tenant_id_name_unique') ||
      isUniqueViolation(error, 'imported_servers_source_id_upstream_name_unique') ||
      isUniqueViolation(error, 'registry_sources_tenant_id_url_search_unique')
    ) {
      throw conflict(
        'Another import into this tenant ran at the same time: nothing was imported, run it again.',
      );
    }
    throw error;
  }
  skipped.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    sourceId: source.id,
    ...counts,
    skipped,
    notDiscovered: prepared.notDiscovered,
    since: prepared.since,
  };
}

/** An entry that changed upstream: its server follows (what it says, not what people changed here since). */
async function applyEntry(
  tx: EntityManager,
  row: ImportedServer,
  entry: UpstreamServer,
  prepared: Prepared,
): Promise<void> {
  const server = row.server.getEntity();
  if (remoteChanged(row, entry)) {
    if (movesElsewhere(server.endpointUrl, entry.remoteUrl)) server.sealedHeaders = null;
    server.endpointUrl = entry.remoteUrl;
    server.transportType = entry.remoteType;
  }
  if (row.description !== entry.description) server.description = entry.description;
  row.upstreamVersion = entry.version;
  row.status = entry.status;
  copySnapshot(row, entry);
  const inspection = prepared.inspections.get(discoveryKey(entry));
  if (inspection !== undefined) await syncCapabilities(tx, server, inspection);
}

function copySnapshot(row: ImportedServer, entry: UpstreamServer): void {
  row.statusMessage = entry.statusMessage;
  row.upstreamUpdatedAt = entry.updatedAt;
  row.remoteUrl = entry.remoteUrl;
  row.remoteType = entry.remoteType;
  row.description = entry.description;
  row.requiredHeaders = entry.requiredHeaders;
}
