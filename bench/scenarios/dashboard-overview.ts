import { dataOf, expect, type GraphQLReply, requestBody } from '../graphql-http.js';
import { DASHBOARD_OVERVIEW } from '../operations.js';
import type { HttpScenario, ScenarioContext } from './scenario.js';

const HOURS = 24;

interface DashboardData {
  serverHealthSummary: {
    totalServers: number;
    healthyServers: number;
    degradedServers: number;
    unhealthyServers: number;
    unknownServers: number;
    avgResponseTime: number | null;
    openCircuits: number;
  };
  requestPerformanceSummary: { totalRequests: number };
  requestTimeSeries: { requests: number }[];
}

interface ExpectedHealth {
  total: number;
  healthy: number;
  degraded: number;
  unhealthy: number;
  unknown: number;
  open: number;
  avg: number | null;
}

/**
 * Requests within the window move while the check runs (the server logs every request, and the window
 * slides): counts must agree with SQL to within this much.
 */
const tolerance = (count: number) => Math.max(100, Math.ceil(count * 0.005));

/** The platform dashboard: fleet health, request performance and an hourly series over the last 24 hours. */
export function dashboardOverviewScenario({ sql, keys }: ScenarioContext): HttpScenario {
  const body = requestBody(DASHBOARD_OVERVIEW, { hours: HOURS });
  const title = 'DashboardOverview';
  return {
    name: 'dashboard',
    title,
    description: `hours: ${HOURS}: health summary, request performance (p50/p95/p99), hourly series; platform admin key`,
    key: keys.admin.key,
    varies: false,
    explain: true,
    nextBody: () => body,
    async verify(reply: GraphQLReply<unknown>) {
      const data = dataOf(reply as GraphQLReply<DashboardData>, title);
      const health = await sql.one<ExpectedHealth>(
        `select count(*)::int as total,
           count(*) filter (where s.health_status = 'healthy')::int as healthy,
           count(*) filter (where s.health_status = 'degraded')::int as degraded,
           count(*) filter (where s.health_status = 'unhealthy')::int as unhealthy,
           count(*) filter (where s.health_status = 'unknown')::int as unknown,
           count(*) filter (where cb.state = 'open')::int as open,
           avg(s.avg_response_time)::float8 as avg
         from mcp_servers s left join circuit_breakers cb on cb.server_id = s.id`,
      );
      const { count: requests } = await sql.one<{ count: number }>(
        `select count(*)::int as count from request_logs where created_at >= now() - make_interval(hours => $1)`,
        [HOURS],
      );
      const summary = data.serverHealthSummary;
      const pairs: [string, number, number][] = [
        ['totalServers', summary.totalServers, health.total],
        ['healthyServers', summary.healthyServers, health.healthy],
        ['degradedServers', summary.degradedServers, health.degraded],
        ['unhealthyServers', summary.unhealthyServers, health.unhealthy],
        ['unknownServers', summary.unknownServers, health.unknown],
        ['openCircuits', summary.openCircuits, health.open],
      ];
      for (const [field, answered, counted] of pairs) {
        expect(answered === counted, title, `${field} ${answered}, SQL ${counted}`);
      }
      expect(
        Math.abs((summary.avgResponseTime ?? 0) - (health.avg ?? 0)) < 1e-6 * Math.max(1, health.avg ?? 0),
        title,
        `avgResponseTime ${summary.avgResponseTime}, SQL ${health.avg}`,
      );
      const total = data.requestPerformanceSummary.totalRequests;
      expect(
        Math.abs(total - requests) <= tolerance(requests),
        title,
        `totalRequests ${total}, SQL ${requests}`,
      );
      const series = data.requestTimeSeries;
      const inSeries = series.reduce((sum, bucket) => sum + bucket.requests, 0);
      expect(series.length === HOURS + 1, title, `${series.length} hourly buckets, expected ${HOURS + 1}`);
      expect(
        Math.abs(inSeries - total) <= tolerance(total),
        title,
        `the series adds up to ${inSeries} requests, the summary says ${total}`,
      );
      return (
        `health counts (${health.total} servers, ${health.open} open circuits) equal SQL; ${total} requests in ` +
        `${HOURS} h match SQL's ${requests} and the ${series.length}-bucket series`
      );
    },
  };
}
