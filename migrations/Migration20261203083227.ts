import { Migration } from '@mikro-orm/migrations';

/**
 * Text search over tools and servers (src/registry/text-search.ts): pg_trgm for typos, and for each of
 * server_tools and mcp_servers two generated columns with a GIN index each, `search_document` (full text:
 * the name split into words, weight A, and the description, weight B) and `search_text` (the same words as
 * text, for trigram similarity). The functions that compute them are immutable, so PostgreSQL may store their
 * results and keeps them up to date on every write.
 */
export class Migration20261203083227 extends Migration {
  override async up(): Promise<void> {
    // Shipped with PostgreSQL (contrib) and trusted: a database owner may create it. PGlite needs it loaded
    // when the instance is created (src/db/orm.ts).
    this.addSql('create extension if not exists pg_trgm;');
    // The words of a name as people type them: `get_weather`, `getWeather`, `get-weather` and
    // `HTTPServer.get` all become lower-case words separated by single spaces.
    this.addSql(
      `create function search_words(value text) returns text language sql immutable parallel safe as $$
  select lower(btrim(regexp_replace(regexp_replace(regexp_replace(coalesce(value, ''),
    '([[:lower:][:digit:]])([[:upper:]])', '\\1 \\2', 'g'),
    '([[:upper:]])([[:upper:]][[:lower:]])', '\\1 \\2', 'g'),
    '[^[:alnum:]]+', ' ', 'g')))
$$;`,
    );
    this.addSql(
      `create function search_document(name text, description text) returns tsvector language sql immutable parallel safe as $$
  select setweight(to_tsvector('english'::regconfig, search_words(name)), 'A')
      || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')
$$;`,
    );
    this.addSql(
      `create function search_text(name text, description text) returns text language sql immutable parallel safe as $$
  select search_words(name) || ' ' || coalesce(description, '')
$$;`,
    );

    for (const table of ['mcp_servers', 'server_tools']) {
      this.addSql(
        `alter table "${table}" add column "search_document" tsvector generated always as (search_document(name, description)) stored null, add column "search_text" text generated always as (search_text(name, description)) stored null;`,
      );
      this.addSql(`create index "${table}_search_document_idx" on "${table}" using gin ("search_document");`);
      this.addSql(
        `create index "${table}_search_text_idx" on "${table}" using gin ("search_text" gin_trgm_ops);`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of ['server_tools', 'mcp_servers']) {
      this.addSql(`drop index "${table}_search_text_idx";`);
      this.addSql(`drop index "${table}_search_document_idx";`);
      this.addSql(`alter table "${table}" drop column "search_document", drop column "search_text";`);
    }
    this.addSql('drop function search_text(text, text);');
    this.addSql('drop function search_document(text, text);');
    this.addSql('drop function search_words(text);');
    // Refused (and so the whole down) if something outside these migrations came to use it.
    this.addSql('drop extension if exists pg_trgm;');
  }
}
