import http from 'node:http';
import type { HttpCase, HttpProbe } from './fuzz.js';

// How a fuzz case's answer is judged, wherever the API runs (in-process, or a started server process).

/** Every code the API, Apollo and graphql-armor give a client for a bad request. */
export const CLIENT_ERROR_CODES = new Set([
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'RATE_LIMITED',
  'SUBSCRIBER_TOO_SLOW',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** What must never reach a client. The fuzzer's own inputs are chosen so that echoing them matches none. */
export const LEAKS: [string, RegExp][] = [
  ['a stack trace', /\n\s+at \S|\s{4}at [\w$.<>]+ \(/],
  ['a source path', /\/src\/|node_modules|\.[cm]?[jt]s:\d+/],
  [
    'SQL text',
    /\b(?:select|insert into|delete from)\b[\s\S]{0,200}\b(?:from|where|values|returning)\b|\bupdate\s+"?\w+"?\s+set\b/i,
  ],
  [
    'a database error',
    /syntax error at or near|invalid input syntax|violates|duplicate key|relation "|column "|\bpg_|pglite|postgres/i,
  ],
  [
    'an internal error name',
    /TypeError|ReferenceError|RangeError|SyntaxError|DriverException|Exception\b|MikroORM|EntityManager|Cannot read propert|is not a function|Maximum call stack|\[object Object\]/,
  ],
];

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
}

/**
 * Sends a probe over a kept-alive connection; once more on a fresh one when the reused connection turns out
 * to have been closed by the server meanwhile (a race of keep-alive, not an answer).
 */
export async function sendProbe(origin: string, agent: http.Agent, probe: HttpProbe): Promise<HttpAnswer> {
  try {
    return await sendOnce(origin, probe, agent);
  } catch (error) {
    if (!(error instanceof Error && /socket hang up|ECONNRESET|EPIPE/.test(error.message))) throw error;
    return sendOnce(origin, probe, false);
  }
}

function sendOnce(origin: string, probe: HttpProbe, via: http.Agent | false): Promise<HttpAnswer> {
  const url = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: url.hostname,
        port: url.port,
        method: probe.method,
        path: probe.path,
        headers: probe.headers,
        agent: via,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(probe.body);
  });
}

export function leaksIn(text: string): string[] {
  return LEAKS.filter(([, pattern]) => pattern.test(text)).map(([what]) => `leaks ${what}`);
}

/** What is wrong with the errors of a GraphQL result (HTTP body, or a graphql-ws payload). */
export function errorProblems(errors: unknown): string[] {
  if (!Array.isArray(errors) || errors.length === 0) return ['"errors" is not a non-empty array'];
  const problems: string[] = [];
  for (const error of errors as { message?: unknown; extensions?: { code?: unknown } }[]) {
    if (typeof error?.message !== 'string' || error.message.trim() === '') {
      problems.push('an error without a message');
    }
    const code = error?.extensions?.code;
    if (typeof code !== 'string') problems.push(`an error without extensions.code: ${JSON.stringify(error)}`);
    else if (!CLIENT_ERROR_CODES.has(code)) problems.push(`error code ${code}: ${error.message}`);
  }
  return problems;
}

/** Routes Express sends to the GraphQL endpoint (it matches paths case-insensitively, with a trailing slash). */
const GRAPHQL_PATH = /^\/graphql(?:[/?]|$)/i;

export function httpProblems(fuzzCase: HttpCase, answer: HttpAnswer): string[] {
  const { probe } = fuzzCase;
  const problems = leaksIn(answer.text);
  if (answer.status >= 500) problems.push(`status ${answer.status}`);
  // Node's HTTP parser refuses unknown methods (400) and oversized headers (431) with an empty answer before
  // the application sees the request; the application would have set x-request-id.
  const parserRefusal = answer.headers['x-request-id'] === undefined && answer.text === '';
  if (parserRefusal && (answer.status === 400 || answer.status === 431)) return problems;
  const bodiless = probe.method === 'HEAD' || answer.status === 204;
  if (bodiless || !GRAPHQL_PATH.test(probe.path)) return problems;
  // A browser (GET, accepting HTML) gets GraphiQL (when the dashboard is built): a page on purpose, not an answer.
  const landingPage =
    probe.method === 'GET' &&
    (probe.headers.accept ?? '').includes('text/html') &&
    String(answer.headers['content-type']).startsWith('text/html');
  if (landingPage) return problems;
  let body: { data?: unknown; errors?: unknown };
  try {
    body = JSON.parse(answer.text);
  } catch {
    return [...problems, `the body is not JSON: ${answer.text.slice(0, 200)}`];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return [...problems, 'the body is not a JSON object'];
  }
  if (!('data' in body) && !('errors' in body)) problems.push('the body has neither data nor errors');
  if ('errors' in body) problems.push(...errorProblems(body.errors));
  if (fuzzCase.mutation) {
    if (!('errors' in body)) problems.push('an invalid mutation answered without errors');
    const data = body.data as Record<string, unknown> | null | undefined;
    if (data != null && Object.values(data).some((value) => value !== null)) {
      problems.push('an invalid mutation returned data');
    }
  }
  return problems;
}
