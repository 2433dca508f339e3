import { Migration } from '@mikro-orm/migrations';

/**
 * The source system's analytics functions and maintenance views. Each function takes an optional tenant so
 * the API can scope figures to the caller's tenant; called without it they cover the whole platform, as in
 * the source (`get_server_health_summary()`).
 */
export class Migration20261128020000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create function get_server_health_summary(p_tenant_id uuid default null)
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
        where p_tenant_id is null or s.tenant_id = p_tenant_id
      $$;`);

    this.addSql(`
      create function get_request_performance_summary(p_hours integer default 24, p_tenant_id uuid default null)
      returns table (
        total_requests bigint,
        error_count bigint,
        error_rate double precision,
        avg_duration_ms double precision,
        p50_duration_ms double precision,
        p95_duration_ms double precision,
        p99_duration_ms double precision,
        max_duration_ms double precision
      )
      language sql stable
      as $$
        select
          count(*),
          count(*) filter (where r.status_code >= 400),
          coalesce(count(*) filter (where r.status_code >= 400)::double precision / nullif(count(*), 0), 0),
          avg(r.duration_ms),
          percentile_cont(0.50) within group (order by r.duration_ms),
          percentile_cont(0.95) within group (order by r.duration_ms),
          percentile_cont(0.99) within group (order by r.duration_ms),
          max(r.duration_ms)
        from request_logs r
        where r.created_at >= now() - make_interval(hours => p_hours)
          and (p_tenant_id is null or r.tenant_id = p_tenant_id)
      $$;`);

    // tool_calls sums the lifetime call counters the gateway keeps per tool; request figures cover p_hours.
    this.addSql(`
      create function get_tenant_usage_summary(p_tenant_id uuid, p_hours integer default 24)
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
          where s.tenant_id = p_tenant_id
        ),
        tools as (
          select count(t.id) as total, coalesce(sum(t.total_calls), 0)::bigint as calls
          from server_tools t
          join mcp_servers s on s.id = t.server_id
          where s.tenant_id = p_tenant_id
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
      $$;`);

    // reltuples is -1 until a table has been analysed: report 0 rather than a negative estimate.
    this.addSql(`
      create view database_size_summary as
      select
        c.relname::text as table_name,
        pg_total_relation_size(c.oid) as total_bytes,
        pg_relation_size(c.oid) as table_bytes,
        pg_indexes_size(c.oid) as index_bytes,
        greatest(c.reltuples, 0)::bigint as row_estimate
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and n.nspname = current_schema()
      order by pg_total_relation_size(c.oid) desc, c.relname;`);

    this.addSql(`
      create view index_usage_summary as
      select
        s.relname::text as table_name,
        s.indexrelname::text as index_name,
        s.idx_scan as scans,
        s.idx_tup_read as tuples_read,
        s.idx_tup_fetch as tuples_fetched,
        pg_relation_size(s.indexrelid) as size_bytes,
        i.indisunique as is_unique
      from pg_stat_user_indexes s
      join pg_index i on i.indexrelid = s.indexrelid
      where s.schemaname = current_schema()
      order by s.idx_scan asc, pg_relation_size(s.indexrelid) desc, s.indexrelname;`);

    this.addSql(`
      create view performance_monitoring as
      select
        t.relname::text as table_name,
        t.seq_scan,
        t.seq_tup_read,
        coalesce(t.idx_scan, 0) as idx_scan,
        t.n_live_tup as live_rows,
        t.n_dead_tup as dead_rows,
        coalesce(t.n_dead_tup::double precision / nullif(t.n_live_tup + t.n_dead_tup, 0), 0) as dead_row_ratio,
        t.last_vacuum,
        t.last_autovacuum,
        t.last_analyze,
        t.last_autoanalyze
      from pg_stat_user_tables t
      where t.schemaname = current_schema()
      order by t.seq_tup_read desc, t.relname;`);
  }

  override async down(): Promise<void> {
    this.addSql('drop view if exists performance_monitoring;');
    this.addSql('drop view if exists index_usage_summary;');
    this.addSql('drop view if exists database_size_summary;');
    this.addSql('drop function if exists get_tenant_usage_summary(uuid, integer);');
    this.addSql('drop function if exists get_request_performance_summary(integer, uuid);');
    this.addSql('drop function if exists get_server_health_summary(uuid);');
  }
}
