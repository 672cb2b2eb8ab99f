/**
 * Readers parked until a partition's log grows past an offset: the long-poll and SSE reads
 * over HTTP (docs/PROTOCOL.md §17). A waiter holds a resolver and a timer, never records:
 * once woken, its reader reads from the log like any catch-up read, so a partition keeps
 * one writer and no per-reader buffers. The set is capped; past the cap a wait is refused
 * (THROTTLED, retriable) instead of growing without bound.
 */
import { KaitenError } from "@kaiten/protocol";

/** Waiters per partition. Default: 1,000. */
export const MAX_WAITERS = 1_000;
/** The longest wait one call may ask for, in ms. */
export const MAX_WAIT_MS = 30_000;

/** Why a wait ended: the log grew past the offset, the time ran out, or the log went away. */
export type WaitOutcome = "grew" | "timeout" | "closed";

/** One-shot timers, as the host provides them (the core declares no platform globals). */
export interface Timers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

interface Waiter {
  after: number;
  resolve(outcome: WaitOutcome): void;
  timer: unknown;
}

export class CommitWaiters {
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly timers: Timers,
    private readonly max = MAX_WAITERS,
  ) {}

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Resolves once the high watermark passes `after`, or after `ms`. The caller checks the
   * log first; a commit between that check and this call is caught by `highWatermark`.
   */
  wait(after: number, highWatermark: number, ms: number): Promise<WaitOutcome> {
    if (highWatermark > after) return Promise.resolve("grew");
    if (this.waiters.size >= this.max)
      throw new KaitenError("THROTTLED", "too many readers waiting on this partition", 1_000);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        after,
        resolve,
        timer: this.timers.set(() => this.settle(waiter, "timeout"), Math.min(ms, MAX_WAIT_MS)),
      };
      this.waiters.add(waiter);
    });
  }

  /** Called after every commit: wakes the waiters the new records are for. */
  wake(highWatermark: number): void {
    for (const w of this.waiters) if (highWatermark > w.after) this.settle(w, "grew");
  }

  /** Wakes everyone: the stream closed or the log was deleted; readers re-read and learn which. */
  wakeAll(outcome: WaitOutcome = "closed"): void {
    for (const w of this.waiters) this.settle(w, outcome);
  }

  private settle(w: Waiter, outcome: WaitOutcome): void {
    if (!this.waiters.delete(w)) return;
    this.timers.clear(w.timer);
    w.resolve(outcome);
  }
}
