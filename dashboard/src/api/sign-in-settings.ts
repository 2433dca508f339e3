/**
 * How this installation signs people in with its identity provider, as the API wrote it on the page's root
 * element (src/http/dashboard-routes.ts); `null` when it has none (OIDC_CLIENT_ID unset): API keys only.
 */
export interface SignInSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly scope: string;
  readonly resource: string | undefined;
  readonly providerName: string;
}

/** The redirect URI registered at the provider: the API serves this page there too. */
export const CALLBACK_PATH = '/auth/callback';

export function readSignInSettings(root: HTMLElement): SignInSettings | null {
  const { oidcIssuer, oidcClientId, oidcScope, oidcResource, oidcProviderName } = root.dataset;
  if (oidcIssuer === undefined || oidcClientId === undefined) return null;
  return {
    issuer: oidcIssuer,
    clientId: oidcClientId,
    scope: oidcScope ?? 'openid',
    resource: oidcResource,
    providerName: oidcProviderName ?? new URL(oidcIssuer).host,
  };
}
