import type http from 'node:http';

// The endpoint's HTTP exchange between Node and the SDK's web-standard handlers, as @modelcontextprotocol/node's
// `toNodeHandler` does it (same URL, headers, signal, size limit, error answers and streamed writing), with one
// difference: a POST's body is read from Node's stream and parsed here, once, and the web Request is built
// without it, since every SDK entry the endpoint calls takes the parsed body instead of reading the request.
// That spares each request a body stream built from the text only to be read back. A POST whose body is not
// JSON keeps its text as the Request's body, for the SDK to answer as it does.

/** A request as the endpoint's handlers take it. */
export interface IncomingExchange {
  /** Method, URL, headers and the exchange's signal; a body only when it is not JSON (see above). */
  readonly request: Request;
  /** A POST's body as JSON; undefined for other methods and for a POST whose body is not JSON. */
  readonly body: unknown;
}

export interface NodeExchangeOptions {
  readonly maxRequestBodySize: number;
  /** Told of a failure the exchange answers with a 500 (the handler threw, or the body could not be read). */
  readonly onerror: (error: Error) => void;
}

/** Serves one Node request with `handle`: reads it, hands it over, writes the answer back (streamed). */
export async function serveNodeExchange(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  handle: (incoming: IncomingExchange) => Promise<Response>,
  options: NodeExchangeOptions,
): Promise<void> {
  let finished = false;
  const abort = new AbortController();
  res.on('close', () => {
    if (!finished) abort.abort();
  });
  if (res.destroyed) abort.abort();
  let response: Response;
  try {
    const incoming = await incomingExchange(req, abort.signal, options.maxRequestBodySize);
    response = incoming === null ? tooLarge(options.maxRequestBodySize) : await handle(incoming);
  } catch (error) {
    try {
      options.onerror(error instanceof Error ? error : new Error(String(error)));
    } catch {}
    response = Response.json(
      { jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null },
      { status: 500 },
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of response.headers) headers[name] = value;
  res.writeHead(response.status, headers);
  if (response.body === null) {
    finished = true;
    res.end();
    return;
  }
  await writeBody(res, response.body, abort.signal);
  finished = true;
  res.end();
}

/** The request as the SDK's handlers take it; null when its body is over `maxBytes`. */
async function incomingExchange(
  req: http.IncomingMessage,
  signal: AbortSignal,
  maxBytes: number,
): Promise<IncomingExchange | null> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = `http://${single(req.headers.host) ?? single(req.headers[':authority']) ?? 'localhost'}${req.url ?? '/'}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  if (method === 'GET' || method === 'HEAD') {
    return { request: new Request(url, { method, headers, signal }), body: undefined };
  }
  const text = await bodyText(req, maxBytes);
  if (text === null) return null;
  if (method === 'POST') {
    try {
      const body: unknown = JSON.parse(text);
      return { request: new Request(url, { method, headers, signal }), body };
    } catch {
      return { request: new Request(url, { method, headers, signal, body: text }), body: undefined };
    }
  }
  return {
    request: new Request(url, { method, headers, signal, ...(text.length > 0 && { body: text }) }),
    body: undefined,
  };
}

/** The body as text (UTF-8, a leading byte-order mark dropped, as a TextDecoder does); null when too large. */
async function bodyText(req: http.IncomingMessage, maxBytes: number): Promise<string | null> {
  if (Number(single(req.headers['content-length'])) > maxBytes) return null;
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of req) {
    const bytes: Buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    received += bytes.byteLength;
    if (received > maxBytes) return null;
    chunks.push(bytes);
  }
  const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks))?.toString('utf8') ?? '';
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Writes a response body as it comes, waiting for the socket to drain; stops when the client went away. */
async function writeBody(
  res: http.ServerResponse,
  body: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): Promise<void> {
  let drained: (() => void) | undefined;
  res.on('drain', () => {
    drained?.();
    drained = undefined;
  });
  const closed = new Promise<void>((resolve) => {
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    for await (const chunk of body) {
      if (signal.aborted) break;
      if (!res.write(chunk)) {
        await Promise.race([
          new Promise<void>((resolve) => {
            drained = resolve;
          }),
          closed,
        ]);
      }
    }
  } catch {}
}

function tooLarge(maxBytes: number): Response {
  return Response.json(
    {
      jsonrpc: '2.0',
      error: { code: -32000, message: `Payload Too Large: Request body must not exceed ${maxBytes} bytes` },
      id: null,
    },
    { status: 413, headers: { connection: 'close' } },
  );
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
