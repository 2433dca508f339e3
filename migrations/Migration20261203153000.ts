import { Migration } from '@mikro-orm/migrations';

/**
 * A tenant's Registry API namespace, chosen at creation or later (src/tenants/registry-namespace.ts); `null`
 * (every tenant so far) keeps the one derived from its name.
 */
export class Migration20261203153000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "tenants" add column "registry_namespace" varchar(124) null;`);
    this.addSql(
      `alter table "tenants" add constraint "tenants_registry_namespace_unique" unique ("registry_namespace");`,
    );
  }

  override async down(): Promise<void> {
    // Chosen namespaces are forgotten: those tenants' servers are listed under derived names again.
    this.addSql(`alter table "tenants" drop constraint "tenants_registry_namespace_unique";`);
    this.addSql(`alter table "tenants" drop column "registry_namespace";`);
  }
}
