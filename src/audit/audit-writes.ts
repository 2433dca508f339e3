import type { Logger } from '../logger.js';
import type { AuditEntry } from './audit-trail.js';

// The audit rows of agents' tool calls are written behind the answer: the INSERT starts before the result goes
// back, and the agent does not wait for its round trip. Every row is still written (one INSERT per call, as
// before); what changes is only that an answer may reach the agent a moment before its row is committed. The
// writes in flight are tracked: the application waits for them at shutdown before the database is closed, and
// a write that fails is logged as an error with the row's identity (never dropped silently).

/** Where the rows written behind are tracked until they are durable. */
export interface AuditWrites {
  /** Starts `write` (the row's INSERT) without waiting for it; `entry` names the row if it fails. */
  behind(entry: AuditEntry & { readonly tenantId: string | null }, write: () => Promise<void>): void;
}

export class BehindAuditWrites implements AuditWrites {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly log: Pick<Logger, 'error'>) {}

  behind(entry: AuditEntry & { readonly tenantId: string | null }, write: () => Promise<void>): void {
    const written: Promise<void> = write()
      .catch((error: unknown) => {
        this.log.error(
          {
            err: error,
            audit: {
              action: entry.action,
              resourceType: entry.resourceType,
              resourceId: entry.resourceId ?? null,
              tenantId: entry.tenantId,
              details: entry.details,
            },
          },
          'audit row could not be written',
        );
      })
      .finally(() => this.pending.delete(written));
    this.pending.add(written);
  }

  /** Rows still being written. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Settles when every row started so far is written (or its failure logged). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}
