/**
 * fdatasync of several files at once, for the partitions that committed in the same turn of
 * the event loop (commit-round.ts). The call blocks the thread until every file is synced, as
 * SQLite's own sync in a `synchronous = FULL` COMMIT did, so nothing else runs between a
 * commit and its sync; but the syncs of different files run in parallel on worker threads,
 * where ext4 (and most file systems) join them into shared journal commits. Measured on the
 * development machine (2 cores, ext4 on a virtual disk): 16 files of 4 KiB synced in 0.9 ms
 * instead of 2.8 ms one after another; 64 files in 2.9 ms instead of 11.0 ms.
 *
 * One file is synced on the calling thread: no hop, the same cost as before.
 */
import { fdatasyncSync } from "node:fs";
import { Worker } from "node:worker_threads";

/** Worker threads at most; the calling thread syncs a share too. */
export const SYNC_THREADS = 7;
/** A sync that takes longer is counted as failed (the disk is gone or hung). */
const SYNC_TIMEOUT_MS = 60_000;
/** Result slots a worker starts with; more are made when a call hands it more files. */
const INITIAL_SLOTS = 64;

/** Syncs files; returns, per file, null or the error that stopped its sync. */
export type SyncFiles = (fds: readonly number[]) => Array<Error | null>;

/** Runs in each worker: sync the files it is sent, write each errno, then wake the caller. */
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { fdatasyncSync } = require("node:fs");
parentPort.on("message", ({ fds, shared }) => {
  const slots = new Int32Array(shared);
  fds.forEach((fd, i) => {
    try {
      fdatasyncSync(fd);
      slots[1 + i] = 0;
    } catch (error) {
      slots[1 + i] = typeof error.errno === "number" ? Math.abs(error.errno) || 1 : 1;
    }
  });
  Atomics.store(slots, 0, 1);
  Atomics.notify(slots, 0);
});
`;

interface SyncWorker {
  worker: Worker;
  /** [done flag, errno per file...] */
  slots: Int32Array;
}

export class SyncPool {
  private readonly workers: SyncWorker[] = [];

  constructor(private readonly threads = SYNC_THREADS) {}

  /** Blocks until every file is synced (or failed); see SyncFiles. */
  readonly syncAll: SyncFiles = (fds) => {
    if (fds.length <= 1 || this.threads === 0) return fds.map(syncHere);
    // Deal the files out: every `shares`-th file to one worker, the first share to this thread.
    const shares = Math.min(this.threads + 1, fds.length);
    const parts: number[][] = Array.from({ length: shares }, () => []);
    for (const [i, fd] of fds.entries()) parts[i % shares]?.push(fd);
    const sent = parts.slice(1);
    for (const [w, part] of sent.entries()) this.send(w, part);
    const results = new Map<number, Error | null>();
    for (const fd of parts[0] ?? []) results.set(fd, syncHere(fd));
    for (const [w, part] of sent.entries()) {
      const errors = this.receive(w, part);
      for (const [i, fd] of part.entries()) results.set(fd, errors[i] ?? null);
    }
    return fds.map((fd) => results.get(fd) ?? null);
  };

  /** Stops the workers (they never keep the process alive in any case). */
  close(): void {
    for (const w of this.workers.splice(0)) void w.worker.terminate();
  }

  private worker(index: number): SyncWorker {
    let w = this.workers[index];
    if (!w) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.unref();
      w = { worker, slots: slots(INITIAL_SLOTS) };
      this.workers[index] = w;
    }
    return w;
  }

  /** Hands a worker its files, with room for a result each (the buffer goes with the message). */
  private send(index: number, fds: number[]): void {
    const w = this.worker(index);
    if (w.slots.length < 1 + fds.length) w.slots = slots(fds.length);
    Atomics.store(w.slots, 0, 0);
    w.worker.postMessage({ fds, shared: w.slots.buffer });
  }

  /** Waits for a worker's results, per file of `fds` as given to `send`. */
  private receive(index: number, fds: number[]): Array<Error | null> {
    const w = this.workers[index] as SyncWorker;
    if (Atomics.wait(w.slots, 0, 0, SYNC_TIMEOUT_MS) === "timed-out") {
      // Never reuse a worker that may still write its slots: a new one starts next time.
      void w.worker.terminate();
      delete this.workers[index];
      const late = new Error(`fdatasync did not finish within ${SYNC_TIMEOUT_MS} ms`);
      return fds.map(() => late);
    }
    return fds.map((_, i) => {
      const errno = w.slots[1 + i] as number;
      return errno === 0 ? null : syncError(errno);
    });
  }
}

/** [done flag, errno per file...] for `files` files, shared with a worker. */
function slots(files: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (1 + files)));
}

function syncHere(fd: number): Error | null {
  try {
    fdatasyncSync(fd);
    return null;
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

function syncError(errno: number): Error {
  const e = new Error(`fdatasync failed (errno ${errno})`) as Error & { errno: number };
  e.errno = -errno;
  return e;
}
