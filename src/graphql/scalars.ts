import { DateTimeResolver, JSONResolver } from 'graphql-scalars';

/** `DateTime`: ISO 8601 strings on the wire, `Date` in resolvers. */
export const DateTimeScalar = DateTimeResolver;

/** `JSON`: any JSON value (settings, tool schemas, capabilities). */
export const JSONScalar = JSONResolver;

/** JSON values as stored in JSONB columns. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
