/**
 * The signed-in API key, kept in sessionStorage: it lives as long as the tab, is never written to disk by us and
 * is not shared with other tabs. GraphiQL (same origin) reads it to fill its Authorization header.
 */
const STORAGE_KEY = 'mcp-gateway.api-key';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(STORAGE_KEY);
}

export function storeApiKey(apiKey: string): void {
  sessionStorage.setItem(STORAGE_KEY, apiKey);
}

export function forgetApiKey(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

export const authorizationOf = (apiKey: string): string => `Bearer ${apiKey}`;

/** The API's graphql-ws endpoint: the same origin and path as HTTP GraphQL, over ws:// or wss://. */
export function graphqlWebSocketUrl(location: Location = window.location): string {
  const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${protocol}//${location.host}/graphql`;
}
