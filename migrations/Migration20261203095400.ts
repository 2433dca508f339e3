import { Migration } from '@mikro-orm/migrations';

/**
 * Users signed in with access tokens (src/auth/token-admission.ts): a user is created on first sight of a
 * token's issuer and subject, so that pair is unique (concurrent first requests insert one row), and the issuer
 * URL is its `auth_provider`, longer than 50 characters. A 2025-era MCP session may be opened by a token's user
 * instead of a key: exactly one of the two.
 */
export class Migration20261203095400 extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      `alter table "users" alter column "auth_provider" type varchar(255) using ("auth_provider"::varchar(255));`,
    );
    this.addSql(
      `alter table "users" add constraint "users_auth_provider_identity_unique" unique ("auth_provider", "auth_provider_id");`,
    );

    this.addSql(`alter table "agent_sessions" add column "user_id" uuid null;`);
    this.addSql(`alter table "agent_sessions" alter column "api_key_id" drop not null;`);
    this.addSql(
      `alter table "agent_sessions" add constraint "agent_sessions_user_id_foreign" foreign key ("user_id") references "users" ("id") on update cascade on delete cascade;`,
    );
    this.addSql(`create index "agent_sessions_user_id_idx" on "agent_sessions" ("user_id");`);
    this.addSql(
      `alter table "agent_sessions" add constraint agent_sessions_opener_check check((api_key_id is null) <> (user_id is null));`,
    );
  }

  override async down(): Promise<void> {
    // Sessions of token users cannot be kept without their user: they end (their agents initialize again).
    this.addSql(`delete from "agent_sessions" where "api_key_id" is null;`);
    this.addSql(`alter table "agent_sessions" drop constraint agent_sessions_opener_check;`);
    this.addSql(`alter table "agent_sessions" drop constraint "agent_sessions_user_id_foreign";`);
    this.addSql(`drop index "agent_sessions_user_id_idx";`);
    this.addSql(`alter table "agent_sessions" drop column "user_id";`);
    this.addSql(`alter table "agent_sessions" alter column "api_key_id" set not null;`);

    this.addSql(`alter table "users" drop constraint "users_auth_provider_identity_unique";`);
    // Issuer URLs longer than the old column are cut: the identity they named is no longer unique anyway.
    this.addSql(
      `alter table "users" alter column "auth_provider" type varchar(50) using (left("auth_provider", 50)::varchar(50));`,
    );
  }
}
