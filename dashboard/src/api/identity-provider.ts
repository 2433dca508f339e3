import { InMemoryWebStorage, type User, UserManager, WebStorageStateStore } from 'oidc-client-ts';
import { CALLBACK_PATH, type SignInSettings } from './sign-in-settings';

/** A signed-in person as the dashboard knows them: an access token for the API, renewed while the tab lives. */
export interface IdentitySession {
  readonly subject: string;
  /** The current access token (it changes at each renewal). */
  accessToken(): string;
}

export interface IdentityProvider {
  readonly name: string;
  /** Leaves for the provider's sign-in page; the browser comes back to CALLBACK_PATH. */
  signIn(): Promise<void>;
  /** At CALLBACK_PATH: trades the code for tokens and returns the hash route to go back to. */
  completeSignIn(): Promise<{ session: IdentitySession; returnTo: string }>;
  /** Calls `listener` with what to tell the user when the session ended by itself (it expired unrenewed). */
  onEnded(listener: (reason: string) => void): () => void;
  /** Forgets the tokens (and asks the provider to revoke the refresh token, where it offers revocation). */
  signOut(): Promise<void>;
}

/** Renew a minute before a token ends, or at three quarters of a short token's life. */
function renewalDelayMs(user: User): number {
  const lifetime = user.expires_in ?? 0;
  return Math.max(1, lifetime > 240 ? lifetime - 60 : lifetime * 0.75) * 1000;
}

/**
 * The authorization code flow with PKCE as a public client (oidc-client-ts). Tokens live in this tab's memory
 * only; the PKCE verifier and state cross the redirect in sessionStorage and are removed on return. Renewal uses
 * the refresh token (a fetch to the token endpoint), so no provider page is framed and the CSP stays strict.
 */
export function createIdentityProvider(settings: SignInSettings): IdentityProvider {
  const manager = new UserManager({
    authority: settings.issuer,
    client_id: settings.clientId,
    redirect_uri: `${window.location.origin}${CALLBACK_PATH}`,
    scope: settings.scope,
    ...(settings.resource !== undefined && { resource: settings.resource }),
    response_type: 'code',
    loadUserInfo: false,
    automaticSilentRenew: false,
    userStore: new WebStorageStateStore({ store: new InMemoryWebStorage() }),
    stateStore: new WebStorageStateStore({ store: window.sessionStorage, prefix: 'mcp-gateway.oidc.' }),
  });
  const endedListeners = new Set<(reason: string) => void>();
  let renewal: ReturnType<typeof setTimeout> | undefined;
  let current: User | null = null;

  const end = (reason: string) => {
    clearTimeout(renewal);
    current = null;
    void manager.removeUser();
    for (const listener of endedListeners) listener(reason);
  };
  const renew = async () => {
    try {
      const renewed = await manager.signinSilent();
      if (renewed === null) throw new Error('no token');
      keep(renewed);
    } catch {
      // Still valid for a while: try again shortly; once expired, the session is over.
      if (current !== null && (current.expires_in ?? 0) > 2) renewal = setTimeout(renew, 2000);
      else end(`Your sign-in with ${settings.providerName} has expired: sign in again.`);
    }
  };
  const keep = (user: User) => {
    current = user;
    clearTimeout(renewal);
    renewal = setTimeout(renew, renewalDelayMs(user));
  };
  // A tab that slept past its renewal: the expiry event comes first, and one renewal is still worth a try.
  manager.events.addAccessTokenExpired(() => void (current !== null && renew()));

  let completion: Promise<{ session: IdentitySession; returnTo: string }> | undefined;
  return {
    name: settings.providerName,
    signIn: () => manager.signinRedirect({ state: window.location.hash }),
    completeSignIn() {
      // Once per page, however often React asks: the code and state can be redeemed only once.
      completion ??= manager.signinRedirectCallback().then((user) => {
        keep(user);
        return {
          session: {
            subject: user.profile.sub,
            accessToken: () => current?.access_token ?? user.access_token,
          },
          returnTo: typeof user.state === 'string' && user.state.startsWith('#') ? user.state : '',
        };
      });
      return completion;
    },
    onEnded(listener) {
      endedListeners.add(listener);
      return () => endedListeners.delete(listener);
    },
    async signOut() {
      clearTimeout(renewal);
      // Refused without a revocation endpoint at the provider: the refresh token is forgotten all the same.
      if (current?.refresh_token !== undefined) {
        await manager.revokeTokens(['refresh_token']).catch(() => undefined);
      }
      current = null;
      await manager.removeUser();
    },
  };
}
