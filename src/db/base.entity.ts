import { randomUUID } from 'node:crypto';
import { OptionalProps, PrimaryKey, Property } from '@mikro-orm/core';
import { Field, ID, ObjectType } from 'type-graphql';

/**
 * Every table has a UUID key and creation/update timestamps. Timestamps are stored with millisecond precision
 * (`timestamptz(3)`), the precision of a JS Date, so a value read back compares equal to what is stored:
 * keyset cursors built from them are exact. Ids are generated in the application so an entity has its id
 * before it is flushed; the database default serves bulk inserts that bypass the ORM.
 */
// Decorated so the GraphQL types of entities inherit id and timestamps; never referenced itself.
@ObjectType({ simpleResolvers: true })
export abstract class BaseEntity<Optional = never> {
  [OptionalProps]?: 'createdAt' | 'updatedAt' | Optional;

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid', defaultRaw: 'gen_random_uuid()' })
  id: string = randomUUID();

  @Field(() => Date)
  @Property({ type: 'datetime', columnType: 'timestamptz(3)', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Field(() => Date)
  @Property({
    type: 'datetime',
    columnType: 'timestamptz(3)',
    defaultRaw: 'now()',
    onUpdate: () => new Date(),
  })
  updatedAt: Date = new Date();
}
