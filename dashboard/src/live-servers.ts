import { useState } from 'react';
import { useSubscription } from 'urql';
import {
  CircuitBreakerChangedDocument,
  type CircuitBreakerState,
  ServerHealthChangedDocument,
  type ServerStatus,
} from './sdk/graphql';

/** What a list row shows that changes live. */
export interface LiveServerState {
  readonly healthStatus: ServerStatus;
  readonly lastHealthCheckAt: string | null;
  readonly circuitState: CircuitBreakerState | null;
}

interface ListedServer {
  readonly id: string;
  readonly healthStatus: ServerStatus;
  readonly lastHealthCheckAt: string | null;
  readonly circuitBreaker: { readonly state: CircuitBreakerState } | null;
}

interface HealthEvent {
  readonly status: ServerStatus;
  readonly checkedAt: string | null;
}

/**
 * Health and circuit changes of the viewer's servers (the API filters events to the key's tenant and allowed
 * servers), laid over the rows a query returned: every change is an event, so the latest one is the current
 * state. A health event still yields to a row whose check is newer (a list fetched after a reconnect).
 */
export function useLiveServerStates(): { stateOf(server: ListedServer): LiveServerState } {
  const [health, setHealth] = useState<ReadonlyMap<string, HealthEvent>>(new Map());
  const [circuits, setCircuits] = useState<ReadonlyMap<string, CircuitBreakerState>>(new Map());
  useSubscription({ query: ServerHealthChangedDocument, variables: {} }, (_previous, event) => {
    const change = event.serverHealthChanged;
    setHealth((known) => new Map(known).set(change.serverId, change));
    return event;
  });
  useSubscription({ query: CircuitBreakerChangedDocument, variables: {} }, (_previous, event) => {
    const change = event.circuitBreakerChanged;
    setCircuits((known) => new Map(known).set(change.serverId, change.state));
    return event;
  });
  return {
    stateOf(server) {
      const healthEvent = health.get(server.id);
      const newer =
        healthEvent !== undefined &&
        (server.lastHealthCheckAt === null ||
          healthEvent.checkedAt === null ||
          healthEvent.checkedAt >= server.lastHealthCheckAt);
      return {
        healthStatus: newer ? healthEvent.status : server.healthStatus,
        lastHealthCheckAt: (newer ? healthEvent.checkedAt : null) ?? server.lastHealthCheckAt,
        circuitState: circuits.get(server.id) ?? server.circuitBreaker?.state ?? null,
      };
    },
  };
}
