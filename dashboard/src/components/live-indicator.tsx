import type { ApiClient } from '../api/client';
import { useLiveState } from '../live';

const LABEL = { connecting: 'Connecting…', connected: 'Live', reconnecting: 'Reconnecting…' } as const;

/** Whether live updates are flowing: pages stay current only while this says "Live". */
export function LiveIndicator({ client }: { readonly client: ApiClient }) {
  const state = useLiveState(client);
  return (
    <span className={`live live-${state}`} data-live={state} title="Live updates over graphql-ws">
      {LABEL[state]}
    </span>
  );
}
