import { useQuery } from 'urql';
import { ViewerDocument } from '../sdk/graphql';

/** Who the API takes this session for: the user (or the key) and its tenant. */
export function SignedInAs() {
  const [{ data }] = useQuery({ query: ViewerDocument });
  const viewer = data?.viewer;
  if (viewer === undefined) return null;
  const who = viewer.user?.username ?? viewer.apiKey?.name ?? '';
  return (
    <span className="signed-in-as" data-testid="signed-in-as" title="Signed in as">
      {who}
      {viewer.tenant ? <span className="muted"> · {viewer.tenant.name}</span> : null}
    </span>
  );
}
