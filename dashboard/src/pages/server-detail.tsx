import { useCallback } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useQuery, useSubscription } from 'urql';
import { Link } from 'wouter';
import { ProblemNotice } from '../components/problem-notice';
import { CircuitBadge, HealthBadge } from '../components/status-badges';
import { formatAgo, formatMs, formatPercent, formatTime } from '../format';
import { useRefreshAfterReconnect } from '../live';
import {
  CircuitBreakerChangedDocument,
  ServerDetailDocument,
  type ServerDetailQuery,
  ServerHealthChangedDocument,
  type ServerStatus,
} from '../sdk/graphql';

type ServerDetail = NonNullable<ServerDetailQuery['server']>;

const STATUS_COLOURS: Record<ServerStatus, string> = {
  HEALTHY: '#059669',
  DEGRADED: '#d97706',
  UNHEALTHY: '#dc2626',
  UNKNOWN: '#6b7280',
  MAINTENANCE: '#6b7280',
};

/** A check on the chart, coloured by its status (failed checks have no response time: drawn on the axis). */
function HealthDot(props: { cx?: number; cy?: number; index?: number; payload?: { status: ServerStatus } }) {
  if (props.cx === undefined || props.payload === undefined) return null;
  return (
    <circle
      key={props.index}
      cx={props.cx}
      cy={props.cy ?? 0}
      r={4}
      fill={STATUS_COLOURS[props.payload.status]}
      data-status={props.payload.status}
    />
  );
}

export function ServerDetailPage({ id }: { readonly id: string }) {
  const [result, reexecute] = useQuery({ query: ServerDetailDocument, variables: { id } });
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  useRefreshAfterReconnect(refresh);
  // A new check or circuit change adds to the history and the figures: fetch the page again.
  useSubscription({ query: ServerHealthChangedDocument, variables: { serverId: id } }, (_previous, event) => {
    refresh();
    return event;
  });
  useSubscription(
    { query: CircuitBreakerChangedDocument, variables: { serverId: id } },
    (_previous, event) => {
      refresh();
      return event;
    },
  );

  const server = result.data?.server;
  return (
    <section>
      <p>
        <Link href="/servers">← Servers</Link>
      </p>
      {result.error ? <ProblemNotice error={result.error} /> : null}
      {server ? <ServerDetails server={server} /> : result.fetching ? <p>Loading…</p> : null}
    </section>
  );
}

function ServerDetails({ server }: { readonly server: ServerDetail }) {
  const history = [...server.healthHistory].reverse().map((check) => ({
    time: new Date(check.checkedAt).toLocaleTimeString(),
    responseTimeMs: check.responseTimeMs,
    status: check.status,
  }));
  return (
    <>
      <div className="page-title">
        <h1 data-server-id={server.id}>{server.name}</h1>
        <HealthBadge status={server.healthStatus} />
        <CircuitBadge state={server.circuitBreaker?.state} />
      </div>
      {server.description ? <p>{server.description}</p> : null}
      <dl className="facts">
        <dt>Endpoint</dt>
        <dd>
          <code>{server.endpointUrl}</code> ({server.transportType})
        </dd>
        <dt>Tenant</dt>
        <dd>{server.tenant.name}</dd>
        <dt>Protocol</dt>
        <dd>{server.protocolVersion ?? '—'}</dd>
        <dt>Average latency</dt>
        <dd>{formatMs(server.avgResponseTime)}</dd>
        <dt>Success rate</dt>
        <dd>{formatPercent(server.successRate)}</dd>
        <dt>Last check</dt>
        <dd>{formatAgo(server.lastHealthCheckAt)}</dd>
        <dt>Circuit</dt>
        <dd>
          {server.circuitBreaker
            ? `${server.circuitBreaker.failureCount} of ${server.circuitBreaker.failureThreshold} failures`
            : '—'}
        </dd>
      </dl>

      <figure>
        <figcaption>Health checks (response time, last {history.length})</figcaption>
        <ResponsiveContainer width="100%" height={220}>
          <LineChart data={history}>
            <CartesianGrid strokeDasharray="3 3" />
            <XAxis dataKey="time" minTickGap={24} />
            <YAxis unit=" ms" />
            <Tooltip
              formatter={(value, _name, item) => [`${value ?? '—'} ms`, String(item.payload.status)]}
            />
            <Line
              type="monotone"
              dataKey="responseTimeMs"
              name="Response time"
              stroke="#2563eb"
              connectNulls={false}
              // Refetched on every check: an animation would replay each time.
              isAnimationActive={false}
              dot={HealthDot}
            />
          </LineChart>
        </ResponsiveContainer>
      </figure>
      <table className="data-table compact" aria-label="Health history">
        <thead>
          <tr>
            <th>Checked</th>
            <th>Status</th>
            <th>Response</th>
            <th>Error</th>
          </tr>
        </thead>
        <tbody>
          {server.healthHistory.slice(0, 10).map((check) => (
            <tr key={check.checkedAt}>
              <td>{formatTime(check.checkedAt)}</td>
              <td>
                <HealthBadge status={check.status} />
              </td>
              <td>{formatMs(check.responseTimeMs)}</td>
              <td className="muted">{check.error ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Tools ({server.tools.length})</h2>
      <table className="data-table" aria-label="Tools">
        <thead>
          <tr>
            <th>Name</th>
            <th>Description</th>
            <th>Calls</th>
            <th>Errors</th>
            <th>Avg time</th>
          </tr>
        </thead>
        <tbody>
          {server.tools.map((tool) => (
            <tr key={tool.id}>
              <td>
                <code>{tool.name}</code>
              </td>
              <td>{tool.description ?? ''}</td>
              <td>{tool.totalCalls}</td>
              <td>{tool.errorCount}</td>
              <td>{formatMs(tool.avgExecutionTime)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Resources ({server.resources.length})</h2>
      <ul className="plain-list">
        {server.resources.map((resource) => (
          <li key={resource.id}>
            <code>{resource.uriTemplate}</code> {resource.name ? `· ${resource.name}` : ''}{' '}
            {resource.mimeType ? <span className="muted">{resource.mimeType}</span> : null}
          </li>
        ))}
      </ul>

      <h2>Prompts ({server.prompts.length})</h2>
      <ul className="plain-list">
        {server.prompts.map((prompt) => (
          <li key={prompt.id}>
            <code>{prompt.name}</code> {prompt.description ?? ''}
          </li>
        ))}
      </ul>
    </>
  );
}
