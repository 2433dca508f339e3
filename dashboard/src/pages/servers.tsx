import { type FormEvent, useCallback, useState } from 'react';
import { useQuery } from 'urql';
import { Link } from 'wouter';
import { FIRST_PAGE, nextPage, Pager, previousPage } from '../components/pager';
import { ProblemNotice } from '../components/problem-notice';
import { CircuitBadge, HealthBadge } from '../components/status-badges';
import { formatAgo, formatCount, formatMs, formatPercent } from '../format';
import { useRefreshAfterReconnect } from '../live';
import { useLiveServerStates } from '../live-servers';
import { type ServerFilter, ServerListDocument, type ServerStatus, type TransportType } from '../sdk/graphql';

const PAGE_SIZE = 25;
const STATUSES: readonly ServerStatus[] = ['HEALTHY', 'DEGRADED', 'UNHEALTHY', 'UNKNOWN', 'MAINTENANCE'];
const TRANSPORTS: readonly TransportType[] = ['STREAMABLE_HTTP', 'SSE', 'STDIO', 'WEBSOCKET'];

interface Filters {
  readonly search: string;
  readonly status: ServerStatus | '';
  readonly transport: TransportType | '';
}

function serverFilterOf(filters: Filters): ServerFilter {
  return {
    ...(filters.search.trim() === '' ? {} : { search: filters.search.trim() }),
    ...(filters.status === '' ? {} : { healthStatus: [filters.status] }),
    ...(filters.transport === '' ? {} : { transportType: [filters.transport] }),
  };
}

export function ServersPage() {
  const [filters, setFilters] = useState<Filters>({ search: '', status: '', transport: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [trail, setTrail] = useState(FIRST_PAGE);
  const [result, reexecute] = useQuery({
    query: ServerListDocument,
    variables: { filter: serverFilterOf(filters), first: PAGE_SIZE, after: trail.after },
  });
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  useRefreshAfterReconnect(refresh);
  const live = useLiveServerStates();

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setFilters(draft);
    setTrail(FIRST_PAGE);
  };
  const page = result.data?.servers;

  return (
    <section>
      <div className="page-title">
        <h1>Servers</h1>
      </div>
      <form className="filters" onSubmit={apply}>
        <input
          type="search"
          aria-label="Search servers"
          placeholder="Search name or description"
          value={draft.search}
          onChange={(event) => setDraft({ ...draft, search: event.target.value })}
        />
        <select
          aria-label="Health"
          value={draft.status}
          onChange={(event) => setDraft({ ...draft, status: event.target.value as Filters['status'] })}
        >
          <option value="">Any health</option>
          {STATUSES.map((status) => (
            <option key={status}>{status}</option>
          ))}
        </select>
        <select
          aria-label="Transport"
          value={draft.transport}
          onChange={(event) => setDraft({ ...draft, transport: event.target.value as Filters['transport'] })}
        >
          <option value="">Any transport</option>
          {TRANSPORTS.map((transport) => (
            <option key={transport}>{transport}</option>
          ))}
        </select>
        <button type="submit">Filter</button>
      </form>
      {result.error ? <ProblemNotice error={result.error} /> : null}
      {page ? (
        <>
          <table className="data-table" aria-label="Servers">
            <thead>
              <tr>
                <th>Name</th>
                <th>Tenant</th>
                <th>Health</th>
                <th>Circuit</th>
                <th>Avg latency</th>
                <th>Success</th>
                <th>Tools</th>
                <th>Last check</th>
              </tr>
            </thead>
            <tbody>
              {page.edges.map(({ node }) => {
                const state = live.stateOf(node);
                return (
                  <tr key={node.id} data-server-id={node.id} data-server-name={node.name}>
                    <td>
                      <Link href={`/servers/${node.id}`}>{node.name}</Link>
                      <div className="muted small">{node.endpointUrl}</div>
                    </td>
                    <td>{node.tenant.name}</td>
                    <td>
                      <HealthBadge status={state.healthStatus} />
                    </td>
                    <td>
                      <CircuitBadge state={state.circuitState} />
                    </td>
                    <td>{formatMs(node.avgResponseTime)}</td>
                    <td>{formatPercent(node.successRate)}</td>
                    <td title={node.tools.map((tool) => tool.name).join(', ')}>{node.tools.length}</td>
                    <td>{formatAgo(state.lastHealthCheckAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {page.edges.length === 0 ? <p className="muted">No servers match.</p> : null}
          <Pager
            hasPrevious={trail.after !== null}
            hasNext={page.pageInfo.hasNextPage}
            onPrevious={() => setTrail(previousPage(trail))}
            onNext={() => page.pageInfo.endCursor && setTrail(nextPage(trail, page.pageInfo.endCursor))}
            summary={`${formatCount(page.totalCount)} servers`}
          />
        </>
      ) : result.fetching ? (
        <p>Loading…</p>
      ) : null}
    </section>
  );
}
