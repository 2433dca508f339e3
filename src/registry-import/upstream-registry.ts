import { ApiError, badUserInput, ErrorCode } from '../graphql/errors.js';

/** Why reading an upstream registry failed; `extensions.upstream.reason` of the error a client gets. */
export type UpstreamFailure =
  | 'TIMEOUT'
  | 'UNREACHABLE'
  | 'HTTP_ERROR'
  | 'REDIRECTED'
  | 'BAD_JSON'
  | 'BAD_RESPONSE'
  | 'TOO_LARGE';

/** A registry that could not be read: nothing was imported. */
export class UpstreamRegistryError extends Error {
  constructor(
    readonly reason: UpstreamFailure,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'UpstreamRegistryError';
  }

  /** The client's error: BAD_USER_INPUT on `url`, as for a server that cannot be read at registration. */
  toApiError(): ApiError {
    return new ApiError(ErrorCode.BAD_USER_INPUT, `The registry could not be read: ${this.message}`, {
      field: 'url',
      upstream: { reason: this.reason, ...(this.status === null ? {} : { status: this.status }) },
    });
  }
}

export interface UpstreamReadSettings {
  /** Deadline of each page request, body included. */
  readonly timeoutMs: number;
  /** Sent with every request (a key the upstream wants). */
  readonly headers: Record<string, string> | null;
}

export interface ListRequest {
  readonly search: string | null;
  /** Only entries updated after this (`updated_since`; the upstream then includes deleted ones). */
  readonly updatedSince: Date | null;
}

/** Entries per page asked for: the official registry's largest page. */
const PAGE_LIMIT = 100;
/** Bounds one run: 500 pages of 100 entries. */
const MAX_PAGES = 500;
const MAX_PAGE_BYTES = 16 * 1024 * 1024;

/** The registry's base URL as stored: http(s), no credentials, query or fragment, no trailing `/v0.1[/servers]`. */
export function normalizeRegistryUrl(value: string): string {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badUserInput(`"url" is not a valid URL: "${text}".`, 'url');
  }
  // The same outbound rule as a server's endpointUrl: http(s) to a named host.
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw badUserInput('"url" must be an http:// or https:// URL.', 'url');
  }
  if (url.username !== '' || url.password !== '') {
    throw badUserInput('"url" must not carry credentials: send them as `headers`.', 'url');
  }
  if (url.search !== '' || url.hash !== '') {
    throw badUserInput('"url" is the registry\'s base URL, without a query or fragment.', 'url');
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v0\.1(\/servers)?$/, '');
  if (text.length > 2048) throw badUserInput('"url" must be at most 2048 characters.', 'url');
  return `${url.origin}${path}`;
}

/**
 * Reads every page of `GET {base}/v0.1/servers` (latest versions; deleted ones too, so that they can be
 * marked), following `metadata.nextCursor`. Any failure (a timeout, an HTTP error, bad JSON, a page that is
 * not a ServerList) ends the read with an UpstreamRegistryError: a partial listing is never used.
 */
export async function readUpstreamEntries(
  baseUrl: string,
  request: ListRequest,
  settings: UpstreamReadSettings,
  onPage?: (entries: number) => void,
): Promise<unknown[]> {
  const entries: unknown[] = [];
  const seenCursors = new Set<string>();
  let cursor: string | null = null;
  for (let page = 0; ; page += 1) {
    if (page >= MAX_PAGES) {
      throw new UpstreamRegistryError('TOO_LARGE', `more than ${MAX_PAGES} pages: narrow it with "search"`);
    }
    const url = new URL(`${baseUrl}/v0.1/servers`);
    url.searchParams.set('limit', String(PAGE_LIMIT));
    url.searchParams.set('version', 'latest');
    url.searchParams.set('include_deleted', 'true');
    if (request.search !== null) url.searchParams.set('search', request.search);
    if (request.updatedSince !== null)
      url.searchParams.set('updated_since', request.updatedSince.toISOString());
    if (cursor !== null) url.searchParams.set('cursor', cursor);
    const body = await fetchPage(url, settings);
    const { servers, nextCursor } = serverList(body);
    entries.push(...servers);
    onPage?.(entries.length);
    if (nextCursor === null) return entries;
    if (seenCursors.has(nextCursor)) {
      throw new UpstreamRegistryError(
        'BAD_RESPONSE',
        `page ${page + 1} repeats the cursor of an earlier page`,
      );
    }
    seenCursors.add(nextCursor);
    cursor = nextCursor;
  }
}

async function fetchPage(url: URL, settings: UpstreamReadSettings): Promise<unknown> {
  // One deadline for the answer and its body: an upstream that sends its body slowly must not hang either.
  const signal = AbortSignal.timeout(settings.timeoutMs);
  const where = `${url.origin}${url.pathname}`;
  try {
    const response = await fetch(url, {
      headers: { accept: 'application/json', ...settings.headers },
      // A redirect is not followed: the key in `headers` was given for this host.
      redirect: 'manual',
      signal,
    });
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      throw new UpstreamRegistryError(
        'REDIRECTED',
        `${where} redirects${location === null ? '' : ` to ${location}`}: import from that URL instead`,
        response.status,
      );
    }
    if (!response.ok) {
      await response.body?.cancel();
      const hint =
        response.status === 401 || response.status === 403 ? ' (does it want a key? pass `headers`)' : '';
      throw new UpstreamRegistryError(
        'HTTP_ERROR',
        `${where} answered HTTP ${response.status}${hint}`,
        response.status,
      );
    }
    const text = await limitedText(response, where);
    try {
      return JSON.parse(text);
    } catch {
      throw new UpstreamRegistryError('BAD_JSON', `${where} did not answer with JSON`);
    }
  } catch (error) {
    if (error instanceof UpstreamRegistryError) throw error;
    if (signal.aborted) {
      throw new UpstreamRegistryError('TIMEOUT', `${where} did not answer within ${settings.timeoutMs} ms`);
    }
    const cause =
      error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    throw new UpstreamRegistryError('UNREACHABLE', `${where} could not be reached (${cause})`);
  }
}

async function limitedText(response: Response, where: string): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_PAGE_BYTES) {
      await reader.cancel();
      throw new UpstreamRegistryError(
        'TOO_LARGE',
        `a page of ${where} is larger than ${MAX_PAGE_BYTES} bytes`,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The `servers` and `metadata.nextCursor` of a ServerList; anything else is BAD_RESPONSE. */
function serverList(body: unknown): { servers: unknown[]; nextCursor: string | null } {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { servers?: unknown }).servers)) {
    throw new UpstreamRegistryError('BAD_RESPONSE', 'the answer is not a ServerList (no "servers" array)');
  }
  const { servers, metadata } = body as { servers: unknown[]; metadata?: { nextCursor?: unknown } };
  const next = metadata?.nextCursor;
  if (next !== undefined && next !== null && typeof next !== 'string') {
    throw new UpstreamRegistryError('BAD_RESPONSE', '"metadata.nextCursor" is not a string');
  }
  return { servers, nextCursor: typeof next === 'string' && next !== '' ? next : null };
}
