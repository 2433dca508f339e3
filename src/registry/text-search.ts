import { badUserInput } from '../graphql/errors.js';

// Text search over tools and servers, shared by `searchTools` (src/search/) and `servers(filter: { search })`.
//
// A row matches a word when its `search_document` (the name split into words, weight A, and the description,
// weight B: migration Migration20261203083227) holds it in any word form (PostgreSQL full text, English
// stemming: "forecasts" finds "forecast"). A query word that no name or description has ever used is a typo or
// a fragment: it is joined by the known words of `search_vocabulary` most similar to it by trigrams ("wether"
// by "weather", "screnshot" by "screenshot"). Tool search lists the tools that match any word of the query,
// ranked by ts_rank with those weights (a word in the name counts more than one in the description); the
// servers filter keeps the servers that match every word, by themselves or by one of their tools. Past the
// words, GIN indexes answer: the work grows with the rows that match, not with the table.

/** The longest search text accepted, in characters. */
export const MAX_SEARCH_LENGTH = 200;
/** The most words a search may have. */
export const MAX_SEARCH_WORDS = 10;

/**
 * The words of `text` as `search_words()` finds them in SQL: camelCase and every run of characters other than
 * letters and digits split words, all in lower case, each word once.
 */
export function searchWords(text: string): string[] {
  const split = text
    .replace(/([\p{Ll}\p{N}])(\p{Lu})/gu, '$1 $2')
    .replace(/(\p{Lu})(\p{Lu}\p{Ll})/gu, '$1 $2')
    .toLowerCase();
  return [...new Set(split.split(/[^\p{L}\p{N}]+/u).filter((word) => word.length > 0))];
}

/**
 * The words of a search (`field` names the argument in errors): at least one, at most MAX_SEARCH_WORDS, from a
 * text of at most MAX_SEARCH_LENGTH characters.
 */
export function requireSearchWords(text: string, field: string): string[] {
  const words = searchWords(requireSearchLength(text, field));
  if (words.length === 0) throw badUserInput(`"${field}" must contain a word (letters or digits).`, field);
  if (words.length > MAX_SEARCH_WORDS) {
    throw badUserInput(`"${field}" may have at most ${MAX_SEARCH_WORDS} words.`, field);
  }
  return words;
}

/** A SQL fragment with `?` placeholders, and its parameters in order. */
export type SqlFragment = readonly [sql: string, params: readonly unknown[]];

/** A search text within MAX_SEARCH_LENGTH characters (`field` names the argument in errors). */
export function requireSearchLength(text: string, field: string): string {
  if (text.length > MAX_SEARCH_LENGTH) {
    throw badUserInput(`"${field}" must be at most ${MAX_SEARCH_LENGTH} characters.`, field);
  }
  return text;
}

/**
 * Whether any of the SQL `expressions` holds `text` literally, case aside: a substring match, `%`, `_` and `\`
 * included as themselves. The literal half of `servers(filter: { search })`, the resource pattern filter and
 * the Registry API's `search` (a substring of server names, as its OpenAPI document specifies).
 */
export function containsTextSql(expressions: readonly string[], text: string): SqlFragment {
  const pattern = `%${text.replace(/[\\%_]/g, '\\$&')}%`;
  return [
    `(${expressions.map((expression) => `${expression} ilike ?`).join(' or ')})`,
    expressions.map(() => pattern),
  ];
}

// How close a known word must be to stand in for an unknown one: pg_trgm's `%` (similarity of at least
// pg_trgm.similarity_threshold, 0.3 unless configured), then the three closest, and only those within 80% of
// the closest, so that "serch" becomes "search" and not also "server".
const CORRECTIONS_PER_WORD = 3;
const CORRECTION_SHARE_OF_BEST = 0.8;

/**
 * The tsquery of `words`: each word, or-ed, with corrections for words no row has used. Uncorrelated, so
 * PostgreSQL computes it once per statement (an InitPlan) and an index condition can use it. The words are
 * letters and digits only (`searchWords`), as are the vocabulary's, so the text given to to_tsquery is always
 * well formed.
 */
function tsquerySql(words: readonly string[]): SqlFragment {
  const sql = `(select to_tsquery('english', string_agg(distinct term, ' | ' order by term))
    from unnest(string_to_array(?::text, ' ')) as query(word)
    cross join lateral (
      select query.word
      union
      select close.word from (
        select v.word, similarity(v.word, query.word) as likeness, max(similarity(v.word, query.word)) over () as best
        from search_vocabulary v
        where length(query.word) >= 3 and v.word % query.word
          and not exists (select 1 from search_vocabulary known where known.word = query.word)
        order by likeness desc, v.word
        limit ${CORRECTIONS_PER_WORD}
      ) close
      where close.likeness >= close.best * ${CORRECTION_SHARE_OF_BEST}
    ) as terms(term))`;
  // One text parameter, words separated by spaces (they have none): array parameters are expanded into lists
  // by the query builder in some positions.
  return [sql, [words.join(' ')]];
}

/** Whether the row of `alias` (server_tools or mcp_servers) matches any of `words`. */
export function matchesAnyWordSql(alias: string, words: readonly string[]): SqlFragment {
  const [query, params] = tsquerySql(words);
  return [`${alias}.search_document @@ ${query}`, params];
}

/**
 * How well the row of `alias` matches `words`, as a double precision: ts_rank over the weighted document
 * (normalised by the document's length and into [0, 1): flags 1 | 32). Deterministic for a row's text, so
 * cursors can carry it.
 */
export function wordsRankSql(alias: string, words: readonly string[]): SqlFragment {
  const [query, params] = tsquerySql(words);
  return [`ts_rank(${alias}.search_document, ${query}, 33)::float8`, params];
}
