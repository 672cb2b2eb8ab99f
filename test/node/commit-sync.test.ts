/**
 * The Node host's durability path in process (edge/src/node/partitions.ts, commit-round.ts,
 * sync-pool.ts): a commit is acknowledged only after the sync of its partition's write-ahead
 * log; the partitions that wrote in the same turn are synced together, in parallel; a failed
 * sync acknowledges nothing, closes the partition's sockets with 1011 and reopens it from
 * disk, where an idempotent retry finds its batch stored once.
 */
import { closeSync, openSync, readlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { decodeFrame, encodeFrame, FrameType, KaitenError, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import type { AppendResult } from "../../edge/src/core/partition-log.ts";
import type { PeerSocket, TopicConfig } from "../../edge/src/core/types.ts";
import { Partitions } from "../../edge/src/node/partitions.ts";
import { type SyncFiles, SyncPool } from "../../edge/src/node/sync-pool.ts";
import { batchOf, tempDirs } from "./files.ts";

const tempDir = tempDirs("kaiten-sync-");

const config: TopicConfig = {
  partitions: 2,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: 1_000_000,
};
const batch = (n: number) => batchOf(n);
const fileOf = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);

/**
 * A SyncFiles that records each call and what a live subscriber had been sent by then (records
 * go out in the same synchronous stretch as the acks are resolved), and can fail.
 */
function spySync(inner: SyncFiles) {
  const calls: Array<{ files: string[]; recordsBefore: number }> = [];
  const seen = { records: 0 };
  let failing: (file: string) => boolean = () => false;
  const sync: SyncFiles = (fds) => {
    const files = fds.map(fileOf);
    calls.push({ files, recordsBefore: seen.records });
    const results = inner(fds);
    return results.map((r, i) => (failing(files[i] as string) ? new Error("EIO (injected)") : r));
  };
  return {
    sync,
    calls,
    seen,
    fail: (f: (file: string) => boolean) => {
      failing = f;
    },
  };
}

/** A socket of the partition; counts the RECORDS frames it is sent into `seen`. */
function peer(seen = { records: 0 }): PeerSocket & { closedWith: number | null } {
  let state: ReturnType<PeerSocket["getState"]> = null;
  const p = {
    closedWith: null as number | null,
    send: (frame: Uint8Array) => {
      if (decodeFrame(frame).type === FrameType.Records) seen.records++;
    },
    close: (code: number) => {
      p.closedWith = code;
    },
    getState: () => state,
    setState: (s: ReturnType<PeerSocket["getState"]>) => {
      state = s;
    },
  };
  return p;
}

describe("the Node host's commit sync", () => {
  it("acknowledges a commit only after its write-ahead log is synced, the turn's partitions together", async () => {
    const pool = new SyncPool();
    const spy = spySync(pool.syncAll);
    const partitions = new Partitions(tempDir(), { synchronous: "FULL", sync: spy.sync });
    try {
      const a = partitions.get("events", 0, config);
      const b = partitions.get("events", 1, config);
      const subscriber = peer(spy.seen);
      a.sockets.add(subscriber);
      const subscribe = encodeFrame({
        type: FrameType.Subscribe,
        requestId: 1,
        from: StartFrom.Latest,
        position: 0,
        epoch: 0,
        credit: 1_000_000,
        key: null,
      });
      await a.partition.message(subscriber, subscribe);
      const acks: Array<Promise<AppendResult>> = [a, b, a].map((o, i) =>
        o.partition.append({ batch: batch(3), producerId: "", producerEpoch: 0, sequence: i }),
      );
      const results = await Promise.all(acks);
      expect(results.map((r) => [r.baseOffset, r.count])).toEqual([
        [0, 3],
        [0, 3],
        [3, 3],
      ]);
      // One round: both partitions' logs synced in one call, before the records went out
      // (the acks are released with them).
      expect(spy.calls).toHaveLength(1);
      expect(spy.calls[0]?.recordsBefore).toBe(0);
      expect(spy.seen.records).toBe(1);
      expect(spy.calls[0]?.files.map((f) => f.split("/").slice(-2).join("/")).sort()).toEqual([
        "events/0.sqlite-wal",
        "events/1.sqlite-wal",
      ]);
      expect(a.partition.log.state.highWatermark).toBe(6);
    } finally {
      partitions.closeAll();
    }
  });

  it("syncs a commit made outside a round (the final commit on SIGTERM) before it resolves", async () => {
    const spy = spySync(new SyncPool().syncAll);
    const partitions = new Partitions(tempDir(), { synchronous: "FULL", sync: spy.sync });
    try {
      const a = partitions.get("events", 0, config);
      const ack = a.partition.append({
        batch: batch(2),
        producerId: "",
        producerEpoch: 0,
        sequence: 0,
      });
      a.flush();
      expect(spy.calls).toHaveLength(1);
      expect(spy.calls[0]?.files[0]).toMatch(/events\/0\.sqlite-wal$/);
      expect(await ack).toMatchObject({ baseOffset: 0, count: 2 });
    } finally {
      partitions.closeAll();
    }
  });

  it("acknowledges nothing when the sync fails, closes the sockets with 1011, and reopens from disk", async () => {
    const spy = spySync(new SyncPool().syncAll);
    const dir = tempDir();
    const partitions = new Partitions(dir, { synchronous: "FULL", sync: spy.sync });
    try {
      const a = partitions.get("events", 0, config);
      const b = partitions.get("events", 1, config);
      const socket = peer();
      a.sockets.add(socket);
      spy.fail((file) => file.endsWith("/0.sqlite-wal"));
      const produce = { batch: batch(4), producerId: "p1", producerEpoch: 1, sequence: 0 };
      const failed = a.partition.append(produce);
      const other = b.partition.append({ ...produce, producerId: "p2" });
      await expect(failed).rejects.toMatchObject({ code: "INTERNAL" });
      await expect(failed).rejects.toBeInstanceOf(KaitenError);
      // The other partition of the same round was synced and acknowledged.
      expect(await other).toMatchObject({ baseOffset: 0, count: 4, duplicate: false });
      expect(socket.closedWith).toBe(1011);
      // A new owner, opened again from the file: the batch was written, so the retry of the
      // same sequence is found there and acknowledged with its offsets, not stored twice.
      spy.fail(() => false);
      const again = partitions.get("events", 0, config);
      expect(again).not.toBe(a);
      expect(await again.partition.append(produce)).toMatchObject({
        baseOffset: 0,
        count: 4,
        duplicate: true,
      });
      expect(again.partition.log.state.highWatermark).toBe(4);
    } finally {
      partitions.closeAll();
    }
  });
});

describe("the Node host's commit sync when syncing cannot start", () => {
  it("acknowledges nothing of the round and keeps the process serving", async () => {
    let throwing = true;
    const pool = new SyncPool();
    const partitions = new Partitions(tempDir(), {
      synchronous: "FULL",
      sync: (fds) => {
        if (throwing) throw new Error("no thread for the sync (injected)");
        return pool.syncAll(fds);
      },
    });
    try {
      const produce = { batch: batch(2), producerId: "", producerEpoch: 0, sequence: 0 };
      const a = partitions.get("events", 0, config).partition.append(produce);
      const b = partitions.get("events", 1, config).partition.append(produce);
      await expect(a).rejects.toMatchObject({ code: "INTERNAL" });
      await expect(b).rejects.toMatchObject({ code: "INTERNAL" });
      throwing = false;
      const again = partitions.get("events", 0, config).partition.append(produce);
      expect(await again).toMatchObject({ baseOffset: 2, count: 2 });
    } finally {
      partitions.closeAll();
      pool.close();
    }
  });
});

describe("SyncPool", () => {
  it("syncs many files on worker threads and this one, reporting a failure per file", () => {
    const dir = tempDir();
    const fds = Array.from({ length: 12 }, (_, i) => {
      const fd = openSync(join(dir, `f${i}`), "w");
      writeSync(fd, Buffer.alloc(4096, i));
      return fd;
    });
    const pool = new SyncPool(3);
    try {
      expect(pool.syncAll(fds)).toEqual(fds.map(() => null));
      // A descriptor that is not open fails alone, whichever thread syncs it.
      const bad = [...fds];
      closeSync(fds[5] as number);
      closeSync(fds[6] as number);
      const results = pool.syncAll(bad);
      results.forEach((r, i) => {
        if (i === 5 || i === 6) expect(r?.message).toMatch(/EBADF|errno 9/);
        else expect(r).toBeNull();
      });
      expect(pool.syncAll([])).toEqual([]);
    } finally {
      pool.close();
      for (const [i, fd] of fds.entries()) if (i !== 5 && i !== 6) closeSync(fd);
    }
  });

  it("gives a worker room for as many files as a turn hands it", () => {
    const dir = tempDir();
    // 300 files on 2 workers and this thread, one of them no descriptor at all (-1).
    const fds = [...Array.from({ length: 299 }, (_, i) => openSync(join(dir, `g${i}`), "w")), -1];
    const pool = new SyncPool(2);
    try {
      const results = pool.syncAll(fds);
      expect(results.filter((r) => r === null)).toHaveLength(299);
      // Node refuses -1 before the system call: an error without an errno, reported as such.
      expect(results[299]).toBeInstanceOf(Error);
    } finally {
      pool.close();
      for (const fd of fds.slice(0, -1)) closeSync(fd);
    }
  });
});
