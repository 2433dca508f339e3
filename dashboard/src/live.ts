import { useEffect, useState } from 'react';
import type { ApiClient, LiveState } from './api/client';
import { useSession } from './session';

export function useLiveState(client: ApiClient): LiveState {
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => client.onLiveState(setState), [client]);
  return state;
}

/**
 * Calls `refresh` when the websocket is back after a break: events sent while it was away are not replayed,
 * so the page asks for the current state instead.
 */
export function useRefreshAfterReconnect(refresh: () => void): void {
  const { client } = useSession();
  useEffect(() => {
    if (client === null) return;
    let previous: LiveState | null = null;
    return client.onLiveState((state) => {
      if (state === 'connected' && previous === 'reconnecting') refresh();
      previous = state;
    });
  }, [client, refresh]);
}
