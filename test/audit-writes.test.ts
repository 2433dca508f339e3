import { describe, expect, it, vi } from 'vitest';
import { BehindAuditWrites } from '../src/audit/audit-writes.js';

/** Audit rows written behind agents' answers: tracked until written, failures logged, never dropped silently. */

const ENTRY = {
  action: 'tool.call',
  resourceType: 'server',
  resourceId: 'server-1',
  tenantId: 'tenant-1',
  details: { toolName: 'echo', virtualServerId: 'vs-1' },
};

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } {
  let resolve = () => {};
  let reject: (error: Error) => void = () => {};
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('audit rows written behind the answer', () => {
  it('starts the write at once and settles only when every write in flight is done', async () => {
    const writes = new BehindAuditWrites({ error: vi.fn() });
    const first = deferred();
    const second = deferred();
    const started = vi.fn();
    writes.behind(ENTRY, () => {
      started();
      return first.promise;
    });
    expect(started).toHaveBeenCalledTimes(1);
    writes.behind(ENTRY, () => second.promise);
    expect(writes.inFlight).toBe(2);
    let settled = false;
    const settling = writes.settled().then(() => {
      settled = true;
    });
    first.resolve();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    // A row started while others are written is waited for too (a call ending during shutdown).
    const third = deferred();
    writes.behind(ENTRY, () => third.promise);
    second.resolve();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(settled).toBe(false);
    third.resolve();
    await settling;
    expect(writes.inFlight).toBe(0);
  });

  it('logs a failed write as an error naming the row, and goes on', async () => {
    const error = vi.fn();
    const writes = new BehindAuditWrites({ error });
    writes.behind(ENTRY, () => Promise.reject(new Error('connection lost')));
    await writes.settled();
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0]?.[0]).toMatchObject({
      err: { message: 'connection lost' },
      audit: {
        action: 'tool.call',
        resourceId: 'server-1',
        tenantId: 'tenant-1',
        details: { virtualServerId: 'vs-1' },
      },
    });
    expect(error.mock.calls[0]?.[1]).toBe('audit row could not be written');
    expect(writes.inFlight).toBe(0);
  });
});
