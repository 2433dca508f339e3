import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import { Provider as UrqlProvider } from 'urql';
import { type ApiClient, createApiClient } from './api/client';
import { forgetApiKey, storeApiKey, storedApiKey } from './api/session';

export interface Session {
  readonly client: ApiClient | null;
  signIn(apiKey: string): void;
  signOut(): void;
}

const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession() outside <SessionProvider>');
  return session;
}

/** One API client per signed-in key; signing out closes its websocket and forgets the key. */
export function SessionProvider({ children }: { readonly children: ReactNode }) {
  const [apiKey, setApiKey] = useState<string | null>(() => storedApiKey());
  const client = useMemo(() => (apiKey === null ? null : createApiClient(apiKey)), [apiKey]);
  useEffect(() => () => client?.close(), [client]);

  const signIn = useCallback((key: string) => {
    storeApiKey(key);
    setApiKey(key);
  }, []);
  const signOut = useCallback(() => {
    forgetApiKey();
    setApiKey(null);
  }, []);
  const session = useMemo(() => ({ client, signIn, signOut }), [client, signIn, signOut]);

  return (
    <SessionContext.Provider value={session}>
      {client === null ? children : <UrqlProvider value={client.urql}>{children}</UrqlProvider>}
    </SessionContext.Provider>
  );
}
