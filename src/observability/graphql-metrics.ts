import type { ApolloServerPlugin } from '@apollo/server';
import type { Metrics } from './metrics.js';

/** Error codes are counted as they are; an error without one counts as INTERNAL_SERVER_ERROR. */
const UNCODED = 'INTERNAL_SERVER_ERROR';

/**
 * Counts each GraphQL operation over HTTP by its type and outcome, times it, and counts the errors of its
 * answer by code. An operation that never resolved (a parse or validation error) has the type `unknown`.
 */
export function graphqlMetricsPlugin(metrics: Metrics): ApolloServerPlugin {
  return {
    async requestDidStart() {
      const startedAt = performance.now();
      let operationType = 'unknown';
      return {
        async didResolveOperation({ operation }) {
          operationType = operation?.operation ?? 'unknown';
        },
        async willSendResponse({ response }) {
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : undefined;
          for (const error of errors ?? []) {
            const code = error.extensions?.code;
            metrics.graphqlErrors.inc({ code: typeof code === 'string' ? code : UNCODED });
          }
          const labels = { operation_type: operationType };
          metrics.graphqlRequests.inc({ ...labels, outcome: errors?.length ? 'error' : 'ok' });
          metrics.graphqlRequestDuration.observe(labels, (performance.now() - startedAt) / 1000);
        },
      };
    },
  };
}
