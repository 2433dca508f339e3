/** A GraphQL response body as the server sends it. */
export interface GraphQLBody<T> {
  readonly data?: T | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

export interface GraphQLReply<T> {
  readonly status: number;
  readonly body: GraphQLBody<T>;
  /** Size of the body in bytes. */
  readonly bytes: number;
}

/** The headers every benchmark request carries. */
export function requestHeaders(key: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${key}` };
}

export function requestBody(query: string, variables: Record<string, unknown> = {}): string {
  return JSON.stringify({ query, variables });
}

/** POSTs a prepared body (see requestBody) to the GraphQL endpoint. */
export async function postGraphQL<T>(url: string, key: string, body: string): Promise<GraphQLReply<T>> {
  const response = await fetch(url, { method: 'POST', headers: requestHeaders(key), body });
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as GraphQLBody<T>,
    bytes: Buffer.byteLength(text),
  };
}

/**
 * Whether a response body carries GraphQL errors, without parsing it (the load generator shares the CPU with
 * the server). Top-level `errors` is the only array under that name in these operations: fields named
 * `errors` inside `data` (DashboardOverview's time series) are numbers.
 */
export function hasGraphQLErrors(body: string): boolean {
  return body.includes('"errors":[');
}

/** The data of a successful response, or an error saying what came back instead. */
export function dataOf<T>(reply: GraphQLReply<T>, operation: string): T {
  if (reply.status !== 200 || reply.body.errors !== undefined || reply.body.data == null) {
    const errors = reply.body.errors
      ?.map((error) => `${error.message} (${error.extensions?.code})`)
      .join('; ');
    throw new CheckError(operation, `HTTP ${reply.status}${errors ? `, errors: ${errors}` : ', no data'}`);
  }
  return reply.body.data;
}

/** A response that is not what the database says it should be. */
export class CheckError extends Error {
  constructor(operation: string, problem: string) {
    super(`${operation} answered wrongly: ${problem}`);
    this.name = 'CheckError';
  }
}

/** Throws a CheckError unless `condition` holds. */
export function expect(condition: boolean, operation: string, problem: string): asserts condition {
  if (!condition) throw new CheckError(operation, problem);
}
