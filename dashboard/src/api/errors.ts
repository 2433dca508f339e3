import type { CombinedError } from 'urql';

/** What went wrong, said so that a person knows what to do next. */
export interface ProblemReport {
  readonly title: string;
  readonly detail: string;
  /** The API's error code, when it sent one. */
  readonly code: string | null;
  /** True when the key itself was refused: the only remedy is signing in again. */
  readonly signInAgain: boolean;
}

const ADVICE: Record<string, { title: string; advice: string; signInAgain?: boolean }> = {
  UNAUTHENTICATED: {
    title: 'The API refused this key',
    advice: 'It may be mistyped, revoked, expired or locked. Sign in again with a valid key.',
    signInAgain: true,
  },
  FORBIDDEN: {
    title: 'This key may not do that',
    advice: 'Ask an administrator for a key with the scope this page needs (READ to view).',
  },
  RATE_LIMITED: {
    title: 'Rate limit reached',
    advice: 'Wait a moment; the page retries when you reload it.',
  },
  NOT_FOUND: { title: 'Not found', advice: 'It may have been deleted, or it belongs to another tenant.' },
  BAD_USER_INPUT: {
    title: 'The request was not accepted',
    advice: 'Check the filter or the value you entered.',
  },
  SERVICE_UNAVAILABLE: {
    title: 'The API is not ready',
    advice: 'Its database or event bus is unavailable; retry shortly.',
  },
};

export function describeProblem(error: CombinedError): ProblemReport {
  if (error.networkError && error.graphQLErrors.length === 0) {
    return {
      title: 'The API cannot be reached',
      detail: 'Check that the gateway is running and that this page is served by it.',
      code: null,
      signInAgain: false,
    };
  }
  const first = error.graphQLErrors[0];
  const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : null;
  const known = code === null ? undefined : ADVICE[code];
  const message = first?.message ?? error.message;
  return {
    title: known?.title ?? 'The API answered with an error',
    detail: known ? `${message} ${known.advice}` : message,
    code,
    signInAgain: known?.signInAgain ?? false,
  };
}
