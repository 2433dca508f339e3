import { useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { FIRST_PAGE, nextPage, Pager, previousPage } from '../components/pager';
import { ProblemNotice } from '../components/problem-notice';
import { HealthBadge } from '../components/status-badges';
import { formatCount } from '../format';
import { VirtualServerListDocument } from '../sdk/graphql';

const PAGE_SIZE = 25;

/** Virtual servers and the endpoint an agent's MCP client connects to (with a key holding PROXY). */
export function VirtualServersPage() {
  const [trail, setTrail] = useState(FIRST_PAGE);
  const [result] = useQuery({
    query: VirtualServerListDocument,
    variables: { first: PAGE_SIZE, after: trail.after },
  });
  const page = result.data?.virtualServers;
  return (
    <section>
      <div className="page-title">
        <h1>Virtual servers</h1>
      </div>
      {result.error ? <ProblemNotice error={result.error} /> : null}
      {page ? (
        <>
          <table className="data-table" aria-label="Virtual servers">
            <thead>
              <tr>
                <th>Name</th>
                <th>Agent endpoint</th>
                <th>Naming</th>
                <th>Members</th>
                <th>Active</th>
              </tr>
            </thead>
            <tbody>
              {page.edges.map(({ node }) => (
                <tr key={node.id} data-virtual-server-id={node.id}>
                  <td>
                    {node.name}
                    {node.description ? <div className="muted small">{node.description}</div> : null}
                  </td>
                  <td>
                    <EndpointUrl url={node.endpointUrl} />
                  </td>
                  <td>{node.toolNaming}</td>
                  <td>
                    <ul className="plain-list">
                      {node.members.map((member) => (
                        <li key={member.server.id}>
                          <Link href={`/servers/${member.server.id}`}>{member.server.name}</Link>{' '}
                          <HealthBadge status={member.server.healthStatus} />{' '}
                          <span className="muted small">
                            {member.toolNames === null ? 'all tools' : `${member.toolNames.length} tools`}
                          </span>
                        </li>
                      ))}
                    </ul>
                  </td>
                  <td>{node.isActive ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {page.edges.length === 0 ? (
            <p className="muted">No virtual servers yet: create one with the createVirtualServer mutation.</p>
          ) : null}
          <Pager
            hasPrevious={trail.after !== null}
            hasNext={page.pageInfo.hasNextPage}
            onPrevious={() => setTrail(previousPage(trail))}
            onNext={() => page.pageInfo.endCursor && setTrail(nextPage(trail, page.pageInfo.endCursor))}
            summary={`${formatCount(page.totalCount)} virtual servers`}
          />
        </>
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
    </section>
  );
}

function EndpointUrl({ url }: { readonly url: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(url);
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <span className="endpoint">
      <code>{url}</code>
      <button type="button" className="link-button" onClick={copy}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}
