/**
 * The Node host's group commit across partitions. Each partition's log defers its commit
 * (Host.defer) to the end of the current I/O; the round runs every deferred commit of the
 * turn one after another, then syncs the write-ahead logs of all the partitions that wrote,
 * in parallel (sync-pool.ts), and only then lets each commit release its acks and records.
 * All of it is one synchronous stretch of the thread: no socket message, HTTP request or
 * timer runs between a commit and its sync, so nothing can read what is not yet durable.
 *
 * A commit made outside a round (a batch that filled a chunk at once, the final commit on
 * SIGTERM) is synced at once, on the calling thread.
 */
import type { SyncFiles } from "./sync-pool.ts";

/** A commit written and waiting for its sync: the file to sync and what to do afterwards. */
interface Written {
  fd: () => number;
  release: (error?: Error) => void;
}

export class CommitRound {
  private queued: Array<() => void> = [];
  /** Commits written in the round that is running; null between rounds. */
  private written: Written[] | null = null;

  constructor(private readonly sync: SyncFiles) {}

  /** Runs `fn` in the next round, after the current I/O (so a turn's messages join it). */
  defer(fn: () => void): void {
    this.queued.push(fn);
    if (this.queued.length === 1) setImmediate(() => this.run());
  }

  /**
   * A commit was written to the file `fd()` returns: `release` runs once it is synced, with
   * the error when the sync failed. Within a round, at the round's end; otherwise now.
   */
  durable(fd: () => number, release: (error?: Error) => void): void {
    const w = { fd, release };
    if (this.written) this.written.push(w);
    else this.release([w]);
  }

  private run(): void {
    const fns = this.queued;
    this.queued = [];
    const written: Written[] = [];
    this.written = written;
    try {
      // Each fn contains its own errors (PartitionService.contained).
      for (const fn of fns) fn();
    } finally {
      this.written = null;
      this.release(written);
    }
  }

  private release(written: Written[]): void {
    if (written.length === 0) return;
    // A log whose file cannot even be opened fails alone; the others are synced together.
    const files = written.map((w) => {
      try {
        return w.fd();
      } catch (error) {
        return asError(error);
      }
    });
    const fds = [...new Set(files.filter((f) => typeof f === "number"))];
    let results: Array<Error | null>;
    try {
      results = this.sync(fds);
    } catch (error) {
      // The syncs could not even start (a worker thread that cannot be made): none is durable.
      results = fds.map(() => asError(error));
    }
    const synced = new Map(fds.map((fd, i) => [fd, results[i] ?? null]));
    for (const [i, w] of written.entries()) {
      const f = files[i] as number | Error;
      w.release((typeof f === "number" ? synced.get(f) : f) ?? undefined);
    }
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
