/**
 * The absolute URL agents connect to for a virtual server (`origin`: PUBLIC_URL, or the listening address). It is
 * also the endpoint's canonical resource URI for OAuth (RFC 8707): what a token for it carries in `aud`.
 */
export function virtualServerEndpointUrl(origin: string, virtualServerId: string): string {
  return `${origin}/mcp/${virtualServerId}`;
}
