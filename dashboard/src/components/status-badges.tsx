import type { CircuitBreakerState, ServerStatus } from '../sdk/graphql';

export function HealthBadge({ status }: { readonly status: ServerStatus }) {
  return (
    <span className={`badge health-${status.toLowerCase()}`} data-health={status}>
      {status}
    </span>
  );
}

export function CircuitBadge({ state }: { readonly state: CircuitBreakerState | null | undefined }) {
  if (!state) return <span className="muted">—</span>;
  return (
    <span className={`badge circuit-${state.toLowerCase()}`} data-circuit={state}>
      {state.replace('_', ' ')}
    </span>
  );
}
