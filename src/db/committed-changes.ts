import type {
  ChangeSet,
  EventSubscriber,
  FlushEventArgs,
  Transaction,
  TransactionEventArgs,
} from '@mikro-orm/core';
import type { Orm } from './orm.js';

/** What a feature makes of one flush's change sets (`null`: nothing it cares about), and how two combine. */
export interface ChangeWatch<C> {
  readonly changeOf: (changeSets: readonly ChangeSet<object>[]) => C | null;
  readonly merge: (a: C, b: C) => C;
  /** Called once the write is committed: a flush outside a transaction, or its transaction's commit. */
  readonly committed: (change: C) => void;
}

/**
 * Sees every write made through the ORM (from any path: GraphQL, background work, the CLI) and hands what
 * `watch` makes of it on once committed, so whoever hears of it reads the new state. Writes in raw SQL are not
 * seen: their callers announce them themselves.
 */
export class CommittedChanges<C> implements EventSubscriber {
  /** Changes flushed inside a transaction, by transaction, until it commits. */
  private readonly pending = new WeakMap<Transaction, C>();

  constructor(private readonly watch: ChangeWatch<C>) {}

  afterFlush({ em, uow }: FlushEventArgs): void {
    const change = this.watch.changeOf(uow.getChangeSets());
    if (change === null) return;
    const transaction: Transaction | undefined = em.getTransactionContext();
    if (transaction === undefined) {
      this.watch.committed(change);
      return;
    }
    const earlier = this.pending.get(transaction);
    this.pending.set(transaction, earlier === undefined ? change : this.watch.merge(earlier, change));
  }

  afterTransactionCommit({ transaction }: TransactionEventArgs): void {
    const change = transaction === undefined ? undefined : this.pending.get(transaction);
    if (transaction === undefined || change === undefined) return;
    this.pending.delete(transaction);
    this.watch.committed(change);
  }

  afterTransactionRollback({ transaction }: TransactionEventArgs): void {
    if (transaction !== undefined) this.pending.delete(transaction);
  }
}

export function watchCommittedChanges<C>(orm: Orm, watch: ChangeWatch<C>): void {
  orm.em.getEventManager().registerSubscriber(new CommittedChanges(watch));
}
