import { useCallback, useEffect, useState } from 'react';
import {
  Area,
  AreaChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { useQuery } from 'urql';
import { ProblemNotice } from '../components/problem-notice';
import { formatCount, formatMs, formatPercent } from '../format';
import { useRefreshAfterReconnect } from '../live';
import { DashboardOverviewDocument, type DashboardOverviewQuery } from '../sdk/graphql';

const WINDOWS = [
  { hours: 1, label: 'Last hour' },
  { hours: 24, label: 'Last 24 hours' },
  { hours: 168, label: 'Last 7 days' },
] as const;

/** The summary is cheap to ask for; a minute is as fresh as hourly buckets need. */
const REFRESH_MS = 60_000;

export function OverviewPage() {
  const [hours, setHours] = useState<number>(24);
  const [result, reexecute] = useQuery({ query: DashboardOverviewDocument, variables: { hours } });
  const refresh = useCallback(() => reexecute({ requestPolicy: 'network-only' }), [reexecute]);
  useRefreshAfterReconnect(refresh);
  useEffect(() => {
    const timer = setInterval(refresh, REFRESH_MS);
    return () => clearInterval(timer);
  }, [refresh]);

  return (
    <section>
      <div className="page-title">
        <h1>Overview</h1>
        <select
          aria-label="Time window"
          value={hours}
          onChange={(event) => setHours(Number(event.target.value))}
        >
          {WINDOWS.map((window) => (
            <option key={window.hours} value={window.hours}>
              {window.label}
            </option>
          ))}
        </select>
      </div>
      {result.error ? <ProblemNotice error={result.error} /> : null}
      {result.data ? <OverviewFigures data={result.data} /> : result.fetching ? <p>Loading…</p> : null}
    </section>
  );
}

function OverviewFigures({ data }: { readonly data: DashboardOverviewQuery }) {
  const health = data.serverHealthSummary;
  const requests = data.requestPerformanceSummary;
  const series = data.requestTimeSeries.map((bucket) => ({
    time: new Date(bucket.bucketStart).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' }),
    requests: bucket.requests,
    errors: bucket.errors,
    errorRate: bucket.requests === 0 ? 0 : (bucket.errors / bucket.requests) * 100,
    avgDurationMs: bucket.avgDurationMs,
  }));
  return (
    <>
      <div className="cards" data-testid="health-summary">
        <Figure label="Servers" value={formatCount(health.totalServers)} />
        <Figure label="Healthy" value={formatCount(health.healthyServers)} tone="good" />
        <Figure label="Degraded" value={formatCount(health.degradedServers)} tone="warn" />
        <Figure label="Unhealthy" value={formatCount(health.unhealthyServers)} tone="bad" />
        <Figure label="Unknown" value={formatCount(health.unknownServers)} />
        <Figure
          label="Open circuits"
          value={formatCount(health.openCircuits)}
          tone={health.openCircuits ? 'bad' : undefined}
        />
        <Figure label="Avg response" value={formatMs(health.avgResponseTime)} />
      </div>
      <div className="cards">
        <Figure label="Requests" value={formatCount(requests.totalRequests)} />
        <Figure
          label="Error rate"
          value={formatPercent(requests.errorRate)}
          tone={requests.errorRate > 0.05 ? 'bad' : undefined}
        />
        <Figure label="p50" value={formatMs(requests.p50DurationMs)} />
        <Figure label="p95" value={formatMs(requests.p95DurationMs)} />
        <Figure label="p99" value={formatMs(requests.p99DurationMs)} />
      </div>
      <div className="charts">
        <figure>
          <figcaption>Requests and errors</figcaption>
          <ResponsiveContainer width="100%" height={240}>
            <AreaChart data={series}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="time" minTickGap={24} />
              <YAxis allowDecimals={false} />
              <Tooltip />
              <Legend />
              <Area type="monotone" dataKey="requests" name="Requests" stroke="#2563eb" fill="#bfdbfe" />
              <Area type="monotone" dataKey="errors" name="Errors" stroke="#dc2626" fill="#fecaca" />
            </AreaChart>
          </ResponsiveContainer>
        </figure>
        <figure>
          <figcaption>Error rate (%)</figcaption>
          <ResponsiveContainer width="100%" height={240}>
            <LineChart data={series}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="time" minTickGap={24} />
              <YAxis unit="%" domain={[0, 'auto']} />
              <Tooltip formatter={(value) => `${Number(value).toFixed(1)} %`} />
              <Line type="monotone" dataKey="errorRate" name="Error rate" stroke="#dc2626" dot={false} />
            </LineChart>
          </ResponsiveContainer>
        </figure>
      </div>
      {series.length === 0 ? <p className="muted">No requests in this window yet.</p> : null}
    </>
  );
}

function Figure(props: {
  readonly label: string;
  readonly value: string;
  readonly tone?: 'good' | 'warn' | 'bad';
}) {
  return (
    <div className={`card${props.tone ? ` tone-${props.tone}` : ''}`}>
      <span className="card-label">{props.label}</span>
      <span className="card-value">{props.value}</span>
    </div>
  );
}
