import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { Provider as UrqlProvider } from 'urql';
import { type ApiClient, createApiClient } from './api/client';
import { createIdentityProvider, type IdentityProvider, type IdentitySession } from './api/identity-provider';
import { authorizationOf, forgetApiKey, storeApiKey, storedApiKey } from './api/session';
import { CALLBACK_PATH, type SignInSettings } from './api/sign-in-settings';

export interface Session {
  readonly client: ApiClient | null;
  /** The identity provider to sign in with; `null` when this installation has none (API keys only). */
  readonly identityProvider: IdentityProvider | null;
  /** True while the page trades the provider's code for tokens, back from the provider's sign-in page. */
  readonly completing: boolean;
  /** Why a sign-in with the provider failed or ended, for the sign-in page. */
  readonly notice: string | null;
  signIn(apiKey: string): void;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession() outside <SessionProvider>');
  return session;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/**
 * One API client per signed-in key or identity-provider session; signing out closes its websocket and forgets the
 * credentials. A key lives in sessionStorage (GraphiQL reads it); a provider's tokens live only in memory.
 */
export function SessionProvider({
  signInSettings,
  children,
}: {
  readonly signInSettings: SignInSettings | null;
  readonly children: ReactNode;
}) {
  const identityProvider = useMemo(
    () => (signInSettings === null ? null : createIdentityProvider(signInSettings)),
    [signInSettings],
  );
  const [apiKey, setApiKey] = useState<string | null>(() => storedApiKey());
  const [identity, setIdentity] = useState<IdentitySession | null>(null);
  const [completing, setCompleting] = useState(
    () => identityProvider !== null && window.location.pathname === CALLBACK_PATH,
  );
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    if (!completing || identityProvider === null) return;
    identityProvider.completeSignIn().then(
      ({ session, returnTo }) => {
        window.history.replaceState(null, '', `/${returnTo}`);
        forgetApiKey();
        setApiKey(null);
        setIdentity(session);
        setNotice(null);
        setCompleting(false);
      },
      (error: unknown) => {
        window.history.replaceState(null, '', '/');
        setNotice(`Signing in with ${identityProvider.name} failed: ${errorText(error)}`);
        setCompleting(false);
      },
    );
  }, [completing, identityProvider]);

  useEffect(
    () =>
      identityProvider?.onEnded((reason) => {
        setIdentity(null);
        setNotice(reason);
      }),
    [identityProvider],
  );

  const client = useMemo(() => {
    if (identity !== null) return createApiClient(() => `Bearer ${identity.accessToken()}`);
    if (apiKey !== null) return createApiClient(() => authorizationOf(apiKey));
    return null;
  }, [apiKey, identity]);
  useEffect(() => () => client?.close(), [client]);

  const signIn = useCallback((key: string) => {
    storeApiKey(key);
    setApiKey(key);
  }, []);
  const signOut = useCallback(() => {
    forgetApiKey();
    setApiKey(null);
    setIdentity(null);
    setNotice(null);
    void identityProvider?.signOut();
  }, [identityProvider]);
  const session = useMemo(
    () => ({ client, identityProvider, completing, notice, signIn, signOut }),
    [client, identityProvider, completing, notice, signIn, signOut],
  );

  return (
    <SessionContext.Provider value={session}>
      {client === null ? children : <UrqlProvider value={client.urql}>{children}</UrqlProvider>}
    </SessionContext.Provider>
  );
}
