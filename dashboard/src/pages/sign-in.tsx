import { type FormEvent, useState } from 'react';
import { Client, type CombinedError, fetchExchange } from 'urql';
import { authorizationOf } from '../api/session';
import { ProblemBox } from '../components/problem-notice';
import { ViewerDocument } from '../sdk/graphql';
import { useSession } from '../session';

/** Asks the API who this key is before keeping it, so a mistyped key is refused here and not on every page. */
async function checkApiKey(apiKey: string): Promise<CombinedError | null> {
  const probe = new Client({
    url: '/graphql',
    preferGetMethod: false,
    exchanges: [fetchExchange],
    fetchOptions: { headers: { authorization: authorizationOf(apiKey) } },
  });
  const result = await probe.query(ViewerDocument, {}).toPromise();
  return result.error ?? null;
}

export function SignInPage() {
  const { signIn } = useSession();
  const [apiKey, setApiKey] = useState('');
  const [checking, setChecking] = useState(false);
  const [problem, setProblem] = useState<CombinedError | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const key = apiKey.trim();
    if (key === '') return;
    setChecking(true);
    const error = await checkApiKey(key);
    setChecking(false);
    if (error === null) signIn(key);
    else setProblem(error);
  };

  return (
    <div className="sign-in">
      <h1>MCP Registry Gateway</h1>
      <IdentityProviderSignIn />
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          name="api-key"
          type="password"
          autoComplete="off"
          placeholder="mcp_…"
          value={apiKey}
          onChange={(event) => setApiKey(event.target.value)}
        />
        <button type="submit" disabled={checking || apiKey.trim() === ''}>
          {checking ? 'Checking…' : 'Sign in'}
        </button>
        <p className="hint">
          The key stays in this tab only. Create one with <code>npm run cli -- key create</code>.
        </p>
      </form>
      {problem ? <ProblemBox error={problem} /> : null}
    </div>
  );
}

/** "Sign in with <provider>": the authorization code flow with PKCE, when the installation has a provider. */
function IdentityProviderSignIn() {
  const { identityProvider, completing, notice } = useSession();
  const [leaving, setLeaving] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  if (identityProvider === null) return null;

  const start = async () => {
    setLeaving(true);
    setProblem(null);
    try {
      await identityProvider.signIn();
    } catch (error) {
      // The provider is unreachable (discovery failed) or refused the request before any redirect.
      setProblem(
        `${identityProvider.name} cannot be reached: ${error instanceof Error ? error.message : error}`,
      );
      setLeaving(false);
    }
  };
  const message = problem ?? notice;
  return (
    <div className="identity-provider">
      <button type="button" onClick={start} disabled={leaving || completing}>
        {completing ? 'Signing in…' : `Sign in with ${identityProvider.name}`}
      </button>
      {message === null ? null : (
        <p className="problem" role="alert" data-code="SIGN_IN">
          {message}
        </p>
      )}
      <p className="or">or with an API key</p>
    </div>
  );
}
