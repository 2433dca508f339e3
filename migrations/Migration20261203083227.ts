import { Migration } from '@mikro-orm/migrations';

const SEARCHED_TABLES = ['mcp_servers', 'server_tools'];

/**
 * Text search over tools and servers (src/registry/text-search.ts). Each of server_tools and mcp_servers gets a
 * generated `search_document` (full text: the name split into words, weight A, and the description, weight B)
 * with a GIN index. Typos are corrected against `search_vocabulary`, every word those names and descriptions
 * have used, with a trigram index (pg_trgm): a query word that is no known word is replaced by the known words
 * most similar to it before the full-text match. Triggers keep the vocabulary; it only grows (a word nobody uses
 * any more only adds a term that matches nothing).
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
    // Words shorter than three letters have too few trigrams to correct.
    this.addSql(
      `create function search_vocabulary_words(name text, description text) returns setof text language sql immutable parallel safe as $$
  select distinct word
  from regexp_split_to_table(search_words(name) || ' ' || lower(coalesce(description, '')), '[^[:alnum:]]+') as word
  where length(word) between 3 and 64
$$;`,
    );
    this.addSql(
      `create table "search_vocabulary" ("word" text not null, constraint "search_vocabulary_pkey" primary key ("word"));`,
    );
    this.addSql(
      `create index "search_vocabulary_word_idx" on "search_vocabulary" using gin ("word" gin_trgm_ops);`,
    );
    // New words are inserted in order, so two transactions adding the same words cannot deadlock.
    this.addSql(
      `create function search_vocabulary_add_rows() returns trigger language plpgsql as $$
begin
  insert into search_vocabulary (word)
  select distinct w.word from new_rows r cross join lateral search_vocabulary_words(r.name, r.description) as w(word)
  order by w.word
  on conflict do nothing;
  return null;
end
$$;`,
    );
    this.addSql(
      `create function search_vocabulary_add_row() returns trigger language plpgsql as $$
begin
  insert into search_vocabulary (word)
  select w.word from search_vocabulary_words(new.name, new.description) as w(word)
  order by w.word
  on conflict do nothing;
  return null;
end
$$;`,
    );

    for (const table of SEARCHED_TABLES) {
      this.addSql(
        `alter table "${table}" add column "search_document" tsvector generated always as (search_document(name, description)) stored null;`,
      );
      this.addSql(`create index "${table}_search_document_idx" on "${table}" using gin ("search_document");`);
      // Inserts once per statement (a bulk insert adds its words in one go); updates only when the text changes
      // (not on every usage counter update).
      this.addSql(
        `create trigger "${table}_search_vocabulary_insert" after insert on "${table}" referencing new table as new_rows for each statement execute function search_vocabulary_add_rows();`,
      );
      this.addSql(
        `create trigger "${table}_search_vocabulary_update" after update of name, description on "${table}" for each row when (old.name is distinct from new.name or old.description is distinct from new.description) execute function search_vocabulary_add_row();`,
      );
      this.addSql(
        `insert into search_vocabulary (word) select distinct w.word from "${table}" r cross join lateral search_vocabulary_words(r.name, r.description) as w(word) order by w.word on conflict do nothing;`,
      );
    }
  }

  override async down(): Promise<void> {
    for (const table of SEARCHED_TABLES) {
      this.addSql(`drop trigger "${table}_search_vocabulary_update" on "${table}";`);
      this.addSql(`drop trigger "${table}_search_vocabulary_insert" on "${table}";`);
      this.addSql(`drop index "${table}_search_document_idx";`);
      this.addSql(`alter table "${table}" drop column "search_document";`);
    }
    this.addSql('drop function search_vocabulary_add_row();');
    this.addSql('drop function search_vocabulary_add_rows();');
    this.addSql('drop table "search_vocabulary";');
    this.addSql('drop function search_vocabulary_words(text, text);');
    this.addSql('drop function search_document(text, text);');
    this.addSql('drop function search_words(text);');
    // Refused (and so the whole down) if something outside these migrations came to use it.
    this.addSql('drop extension if exists pg_trgm;');
  }
}
