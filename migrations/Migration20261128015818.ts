import { Migration } from '@mikro-orm/migrations';

export class Migration20261128015818 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `create table "audit_logs" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid null, "user_id" uuid null, "api_key_id" uuid null, "action" varchar(100) not null, "resource_type" varchar(100) not null, "resource_id" varchar(255) null, "success" boolean not null, "details" jsonb not null default '{}', "ip_address" varchar(64) null, constraint "audit_logs_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "audit_logs_tenant_id_created_at_idx" on "audit_logs" ("tenant_id", "created_at" desc);`,
    );

    this.addSql(
      `create table "request_logs" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "request_id" varchar(64) not null, "tenant_id" uuid null, "api_key_id" uuid null, "method" varchar(10) not null, "path" text not null, "operation_name" varchar(255) null, "status_code" smallint not null, "duration_ms" double precision not null, constraint "request_logs_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "request_logs" add constraint "request_logs_request_id_unique" unique ("request_id");`,
    );
    this.addSql(`create index "request_logs_created_at_idx" on "request_logs" ("created_at");`);
    this.addSql(
      `create index "request_logs_tenant_id_created_at_idx" on "request_logs" ("tenant_id", "created_at" desc);`,
    );

    this.addSql(
      `create table "tenants" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "name" varchar(255) not null, "status" text check ("status" in ('active', 'suspended', 'disabled')) not null default 'active', "settings" jsonb not null default '{}', constraint "tenants_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "tenants" add constraint "tenants_name_unique" unique ("name");`);

    this.addSql(
      `create table "routing_rules" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid not null, "name" varchar(255) not null, "conditions" jsonb not null, "load_balancing_strategy" text check ("load_balancing_strategy" in ('round_robin', 'weighted', 'least_connections', 'random', 'consistent_hash', 'fastest_response')) not null default 'round_robin', "priority" int not null default 0, "is_active" boolean not null default true, constraint "routing_rules_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "routing_rules_tenant_id_priority_idx" on "routing_rules" ("tenant_id", "priority" desc);`,
    );

    this.addSql(
      `create table "mcp_servers" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid not null, "name" varchar(255) not null, "description" text null, "endpoint_url" text not null, "transport_type" text check ("transport_type" in ('streamable_http', 'sse', 'stdio', 'websocket')) not null, "capabilities" jsonb not null default '{}', "protocol_version" varchar(32) null, "server_info" jsonb null, "tags" text[] not null default '{}', "health_status" text check ("health_status" in ('healthy', 'degraded', 'unhealthy', 'unknown', 'maintenance')) not null default 'unknown', "avg_response_time" double precision null, "success_rate" double precision not null default 1, "active_connections" int not null default 0, "last_health_check_at" timestamptz(3) null, "connection_headers" jsonb null, constraint "mcp_servers_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "mcp_servers_discovery_idx" on "mcp_servers" ("avg_response_time", "id") where "health_status" in ('healthy', 'degraded');`,
    );
    this.addSql(
      `create index "mcp_servers_tenant_id_health_status_idx" on "mcp_servers" ("tenant_id", "health_status");`,
    );
    this.addSql(
      `alter table "mcp_servers" add constraint "mcp_servers_tenant_id_name_unique" unique ("tenant_id", "name");`,
    );

    this.addSql(
      `create table "server_tools" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "name" varchar(255) not null, "description" text null, "tool_schema" jsonb not null default '{}', "annotations" jsonb null, "total_calls" int not null default 0, "success_count" int not null default 0, "error_count" int not null default 0, "avg_execution_time" double precision null, constraint "server_tools_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "server_tools_name_server_id_idx" on "server_tools" ("name", "server_id");`);
    this.addSql(
      `alter table "server_tools" add constraint "server_tools_server_id_name_unique" unique ("server_id", "name");`,
    );

    this.addSql(
      `create table "server_resources" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "uri_template" text not null, "is_template" boolean not null default false, "uri_regex" text null, "name" varchar(255) null, "description" text null, "mime_type" varchar(255) null, constraint "server_resources_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "server_resources_server_id_idx" on "server_resources" ("server_id");`);

    this.addSql(
      `create table "server_prompts" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "name" varchar(255) not null, "description" text null, "arguments" jsonb not null default '[]', constraint "server_prompts_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "server_prompts" add constraint "server_prompts_server_id_name_unique" unique ("server_id", "name");`,
    );

    this.addSql(
      `create table "routing_rule_targets" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "rule_id" uuid not null, "server_id" uuid not null, "weight" int not null default 1, constraint "routing_rule_targets_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "routing_rule_targets_server_id_idx" on "routing_rule_targets" ("server_id");`);
    this.addSql(
      `alter table "routing_rule_targets" add constraint "routing_rule_targets_rule_id_server_id_unique" unique ("rule_id", "server_id");`,
    );

    this.addSql(
      `create table "health_checks" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "checked_at" timestamptz(3) not null default now(), "status" text check ("status" in ('healthy', 'degraded', 'unhealthy', 'unknown', 'maintenance')) not null, "outcome" text check ("outcome" in ('ok', 'timeout', 'unreachable', 'auth_failed', 'protocol_error')) not null, "response_time_ms" double precision null, "protocol_version" varchar(32) null, "error" text null, constraint "health_checks_pkey" primary key ("id"));`,
    );
    this.addSql(
      `create index "health_checks_server_id_checked_at_idx" on "health_checks" ("server_id", "checked_at");`,
    );

    this.addSql(
      `create table "circuit_breakers" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "server_id" uuid not null, "state" text check ("state" in ('closed', 'open', 'half_open')) not null default 'closed', "failure_count" int not null default 0, "success_count" int not null default 0, "failure_threshold" int not null, "success_threshold" int not null, "open_timeout_ms" int not null, "opened_at" timestamptz(3) null, "last_failure_at" timestamptz(3) null, "last_success_at" timestamptz(3) null, "total_requests" int not null default 0, "total_failures" int not null default 0, "total_successes" int not null default 0, constraint "circuit_breakers_pkey" primary key ("id"));`,
    );
    this.addSql(
      `alter table "circuit_breakers" add constraint "circuit_breakers_server_id_unique" unique ("server_id");`,
    );

    this.addSql(
      `create table "users" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "username" varchar(100) not null, "email" varchar(255) not null, "role" text check ("role" in ('admin', 'user', 'service', 'readonly')) not null default 'user', "auth_provider" varchar(50) null, "auth_provider_id" varchar(255) null, "tenant_id" uuid null, "is_active" boolean not null default true, "last_login_at" timestamptz(3) null, constraint "users_pkey" primary key ("id"));`,
    );
    this.addSql(`alter table "users" add constraint "users_username_unique" unique ("username");`);
    this.addSql(`alter table "users" add constraint "users_email_unique" unique ("email");`);
    this.addSql(`create index "users_tenant_id_idx" on "users" ("tenant_id");`);

    this.addSql(
      `create table "api_keys" ("id" uuid not null default gen_random_uuid(), "created_at" timestamptz(3) not null default now(), "updated_at" timestamptz(3) not null default now(), "tenant_id" uuid null, "user_id" uuid null, "name" varchar(255) not null, "key_hash" varchar(64) not null, "prefix" varchar(32) not null, "scopes" text[] not null, "allowed_servers" text[] null, "rate_limit_per_hour" int null, "rate_limit_per_day" int null, "ip_whitelist" text[] null, "failed_attempts" int not null default 0, "is_locked" boolean not null default false, "is_active" boolean not null default true, "expires_at" timestamptz(3) null, "last_used_at" timestamptz(3) null, constraint "api_keys_pkey" primary key ("id"));`,
    );
    this.addSql(`create index "api_keys_tenant_id_idx" on "api_keys" ("tenant_id");`);
    this.addSql(`create index "api_keys_user_id_idx" on "api_keys" ("user_id");`);
    this.addSql(`alter table "api_keys" add constraint "api_keys_key_hash_unique" unique ("key_hash");`);

    this.addSql(
      `alter table "routing_rules" add constraint "routing_rules_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "mcp_servers" add constraint "mcp_servers_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "server_tools" add constraint "server_tools_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "server_resources" add constraint "server_resources_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "server_prompts" add constraint "server_prompts_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "routing_rule_targets" add constraint "routing_rule_targets_rule_id_foreign" foreign key ("rule_id") references "routing_rules" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "routing_rule_targets" add constraint "routing_rule_targets_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "health_checks" add constraint "health_checks_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "circuit_breakers" add constraint "circuit_breakers_server_id_foreign" foreign key ("server_id") references "mcp_servers" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "users" add constraint "users_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );

    this.addSql(
      `alter table "api_keys" add constraint "api_keys_tenant_id_foreign" foreign key ("tenant_id") references "tenants" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(
      `alter table "api_keys" add constraint "api_keys_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete set null;`,
    );
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "routing_rules" drop constraint "routing_rules_tenant_id_foreign";`);

    this.addSql(`alter table "mcp_servers" drop constraint "mcp_servers_tenant_id_foreign";`);

    this.addSql(`alter table "users" drop constraint "users_tenant_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_tenant_id_foreign";`);

    this.addSql(`alter table "routing_rule_targets" drop constraint "routing_rule_targets_rule_id_foreign";`);

    this.addSql(`alter table "server_tools" drop constraint "server_tools_server_id_foreign";`);

    this.addSql(`alter table "server_resources" drop constraint "server_resources_server_id_foreign";`);

    this.addSql(`alter table "server_prompts" drop constraint "server_prompts_server_id_foreign";`);

    this.addSql(
      `alter table "routing_rule_targets" drop constraint "routing_rule_targets_server_id_foreign";`,
    );

    this.addSql(`alter table "health_checks" drop constraint "health_checks_server_id_foreign";`);

    this.addSql(`alter table "circuit_breakers" drop constraint "circuit_breakers_server_id_foreign";`);

    this.addSql(`alter table "api_keys" drop constraint "api_keys_user_id_foreign";`);

    this.addSql(`drop table if exists "audit_logs" cascade;`);

    this.addSql(`drop table if exists "request_logs" cascade;`);

    this.addSql(`drop table if exists "tenants" cascade;`);

    this.addSql(`drop table if exists "routing_rules" cascade;`);

    this.addSql(`drop table if exists "mcp_servers" cascade;`);

    this.addSql(`drop table if exists "server_tools" cascade;`);

    this.addSql(`drop table if exists "server_resources" cascade;`);

    this.addSql(`drop table if exists "server_prompts" cascade;`);

    this.addSql(`drop table if exists "routing_rule_targets" cascade;`);

    this.addSql(`drop table if exists "health_checks" cascade;`);

    this.addSql(`drop table if exists "circuit_breakers" cascade;`);

    this.addSql(`drop table if exists "users" cascade;`);

    this.addSql(`drop table if exists "api_keys" cascade;`);
  }
}
