import { Migration } from '@mikro-orm/migrations';

/**
 * Server figures for keys limited by `allowedServers`: the server health summary and the server and tool
 * figures of the tenant usage summary take an optional list of server ids, and count only those servers
 * (`null`, the default, counts every server of the tenant, as before). Request and key figures are the
 * tenant's either way: a request names no server.
 */
export class Migration20261128043000 extends Migration {
  override async up(): Promise<void> {
    this.addSql('drop function get_server_health_summary(uuid);');
    this.addSql(serverHealthSummary({ serverIds: true }));
    this.addSql('drop function get_tenant_usage_summary(uuid, integer);');
    this.addSql(tenantUsageSummary({ serverIds: true }));
  }

  override async down(): Promise<void> {
    this.addSql('drop function get_tenant_usage_summary(uuid, integer, uuid[]);');
    this.addSql(tenantUsageSummary({ serverIds: false }));
    this.addSql('drop function get_server_health_summary(uuid, uuid[]);');
    this.addSql(serverHealthSummary({ serverIds: false }));
  }
}

// Without `serverIds` these are the functions of Migration20261128020000, which `down` restores.

function serverHealthSummary({ serverIds }: { serverIds: boolean }): string {
  return `
      create function get_server_health_summary(p_tenant_id uuid default null${serverIds ? ', p_server_ids uuid[] default null' : ''})
      returns table (
        total_servers bigint,
        healthy_servers bigint,
        degraded_servers bigint,
        unhealthy_servers bigint,
        unknown_servers bigint,
        maintenance_servers bigint,
        avg_response_time double precision,
        open_circuits bigint
      )
      language sql stable
      as $$
        select
          count(*),
          count(*) filter (where s.health_status = 'healthy'),
          count(*) filter (where s.health_status = 'degraded'),
          count(*) filter (where s.health_status = 'unhealthy'),
          count(*) filter (where s.health_status = 'unknown'),
          count(*) filter (where s.health_status = 'maintenance'),
          avg(s.avg_response_time),
          count(*) filter (where cb.state = 'open')
        from mcp_servers s
        left join circuit_breakers cb on cb.server_id = s.id
        where ${serverIds ? '(p_tenant_id is null or s.tenant_id = p_tenant_id)\n          and (p_server_ids is null or s.id = any(p_server_ids))' : 'p_tenant_id is null or s.tenant_id = p_tenant_id'}
      $$;`;
}

function tenantUsageSummary({ serverIds }: { serverIds: boolean }): string {
  const servers = serverIds ? '\n            and (p_server_ids is null or s.id = any(p_server_ids))' : '';
  return `
      create function get_tenant_usage_summary(p_tenant_id uuid, p_hours integer default 24${serverIds ? ', p_server_ids uuid[] default null' : ''})
      returns table (
        tenant_id uuid,
        total_requests bigint,
        error_count bigint,
        error_rate double precision,
        avg_duration_ms double precision,
        total_servers bigint,
        active_servers bigint,
        total_tools bigint,
        tool_calls bigint,
        active_api_keys bigint
      )
      language sql stable
      as $$
        with requests as (
          select count(*) as total, count(*) filter (where r.status_code >= 400) as errors, avg(r.duration_ms) as avg_ms
          from request_logs r
          where r.tenant_id = p_tenant_id and r.created_at >= now() - make_interval(hours => p_hours)
        ),
        servers as (
          select
            count(*) as total,
            count(*) filter (where s.health_status in ('healthy', 'degraded')) as active
          from mcp_servers s
          where s.tenant_id = p_tenant_id${servers}
        ),
        tools as (
          select count(t.id) as total, coalesce(sum(t.total_calls), 0)::bigint as calls
          from server_tools t
          join mcp_servers s on s.id = t.server_id
          where s.tenant_id = p_tenant_id${servers}
        ),
        keys as (
          select count(*) as active
          from api_keys k
          where k.tenant_id = p_tenant_id and k.is_active and not k.is_locked and (k.expires_at is null or k.expires_at > now())
        )
        select
          p_tenant_id,
          requests.total,
          requests.errors,
          coalesce(requests.errors::double precision / nullif(requests.total, 0), 0),
          requests.avg_ms,
          servers.total,
          servers.active,
          tools.total,
          tools.calls,
          keys.active
        from requests, servers, tools, keys
      $$;`;
}
