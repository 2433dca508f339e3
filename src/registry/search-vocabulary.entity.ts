import { Entity, Index, PrimaryKey } from '@mikro-orm/core';

/**
 * A word that a server's or tool's name or description has used (lower case, three letters or more), kept by
 * triggers (migration Migration20261203083227). Text search corrects typos against it (text-search.ts). Never
 * read or written through the ORM; mapped so that the schema and the entities agree.
 */
@Entity({ tableName: 'search_vocabulary' })
@Index({
  name: 'search_vocabulary_word_idx',
  expression:
    'create index "search_vocabulary_word_idx" on "search_vocabulary" using gin ("word" gin_trgm_ops)',
})
export class SearchVocabularyWord {
  @PrimaryKey({ type: 'text' })
  word: string;

  constructor(word: string) {
    this.word = word;
  }
}
