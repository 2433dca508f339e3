import type { ReactNode } from 'react';
import type { CombinedError } from 'urql';
import { describeProblem } from '../api/errors';
import { useSession } from '../session';

/** An API error as a person can act on it. */
export function ProblemBox({
  error,
  children,
}: {
  readonly error: CombinedError;
  readonly children?: ReactNode;
}) {
  const problem = describeProblem(error);
  return (
    <div className="problem" role="alert" data-code={problem.code ?? 'NETWORK'}>
      <strong>{problem.title}</strong>
      <p>{problem.detail}</p>
      {children}
    </div>
  );
}

/** A signed-in page's error: a refused key (revoked, expired, locked) offers to sign in again. */
export function ProblemNotice({ error }: { readonly error: CombinedError }) {
  const { signOut } = useSession();
  return (
    <ProblemBox error={error}>
      {describeProblem(error).signInAgain ? (
        <button type="button" onClick={signOut}>
          Sign in again
        </button>
      ) : null}
    </ProblemBox>
  );
}
