import cors from 'cors';
import { type Request, type Response, Router } from 'express';
import type { OidcSettings } from '../config.js';
import { isUuid } from '../graphql/validate.js';
import { virtualServerEndpointUrl } from '../virtual/virtual-endpoint.js';

// OAuth 2.0 Protected Resource Metadata (RFC 9728) for each `/mcp/{id}`, as the MCP authorization specification
// (2025-11-25) has MCP clients discover where to sign in: a 401 names this document in its challenge, the
// document names the resource (the endpoint's canonical URI, which the client sends as RFC 8707 `resource`) and
// the issuers that sign tokens for it.

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** Where the metadata of the virtual server `virtualServerId`'s endpoint is (RFC 9728, section 3.1). */
export function protectedResourceMetadataUrl(origin: string, virtualServerId: string): string {
  return `${origin}${WELL_KNOWN}/mcp/${virtualServerId}`;
}

export interface ProtectedResourceMetadata {
  readonly resource: string;
  readonly authorization_servers: readonly string[];
  readonly bearer_methods_supported: readonly string[];
  readonly scopes_supported?: readonly string[];
  readonly resource_name: string;
}

/**
 * The document for one endpoint. It is public (clients read it before they hold a token) and the same for every
 * well-formed id, existing or not, another tenant's or not: it names only the URI asked about and our issuers, so
 * it tells nobody which virtual servers exist.
 */
export function protectedResourceMetadata(
  settings: OidcSettings,
  origin: string,
  virtualServerId: string,
): ProtectedResourceMetadata {
  return {
    resource: virtualServerEndpointUrl(origin, virtualServerId),
    authorization_servers: settings.issuers,
    // RFC 6750 2.1 only: tokens in a form body or a query string end up in logs.
    bearer_methods_supported: ['header'],
    ...(settings.mcpScopes.length > 0 && { scopes_supported: settings.mcpScopes }),
    resource_name: 'MCP Registry Gateway virtual server',
  };
}

/** `GET /.well-known/oauth-protected-resource/mcp/{id}`, from any origin (browser-based MCP clients read it). */
export function protectedResourceRoutes(settings: OidcSettings, publicOrigin: () => string): Router {
  const router = Router();
  const path = `${WELL_KNOWN}/mcp/:virtualServerId`;
  // Preflights too: MCP clients send `MCP-Protocol-Version` with the request.
  router.options(path, cors());
  router.get(path, cors(), (req: Request, res: Response) => {
    const id = String(req.params.virtualServerId);
    if (!isUuid(id)) {
      res.status(404).json({ error: 'not_found', error_description: 'No MCP endpoint has this path.' });
      return;
    }
    res.setHeader('cache-control', 'public, max-age=300');
    res.json(protectedResourceMetadata(settings, publicOrigin(), id));
  });
  return router;
}
