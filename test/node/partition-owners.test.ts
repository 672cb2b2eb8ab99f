/**
 * The Node host's open partitions are bounded (edge/src/node/partitions.ts): past the limit
 * the least recently used idle partitions close, as Durable Objects are evicted, and open
 * again from their files with everything acknowledged; busy ones never close. Time retention
 * keeps running for partitions that are closed, and after a restart for partitions nobody
 * uses, as a Durable Object's stored alarm would.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { groupLag } from "../../edge/src/core/groups/lag.ts";
import { unwrap } from "../../edge/src/core/port.ts";
import { brokerSettings } from "../../edge/src/core/settings.ts";
import type { PeerSocket, TopicConfig } from "../../edge/src/core/types.ts";
import { type PartitionOwner, Partitions } from "../../edge/src/node/partitions.ts";
import { NodePort } from "../../edge/src/node/port.ts";
import { batchOf, tempDirs } from "./files.ts";

const tempDir = tempDirs("kaiten-owners-");

const config: TopicConfig = {
  partitions: 4,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: 1_000_000,
};
/** Records expire 1 ms after their timestamp. */
const shortLived: TopicConfig = { ...config, retentionMs: 1 };

const batch = batchOf;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Makes an owner look unused for a while, so the limit may close it (partitions.ts RECENT_MS). */
const age = (...owners: PartitionOwner[]) => {
  for (const o of owners) o.lastUsed -= 60_000;
};

const socket = (): PeerSocket => ({
  send: () => {},
  close: () => {},
  getState: () => null,
  setState: () => {},
});

describe("the Node host's open partitions", () => {
  it("closes the least recently used idle partitions past the limit; they open again with everything acknowledged", async () => {
    const partitions = new Partitions(tempDir(), { synchronous: "FULL", maxOpen: 2 });
    try {
      const a = partitions.get("events", 0, config);
      const produce = { batch: batch(3), producerId: "p1", producerEpoch: 1, sequence: 0 };
      expect(await a.partition.append(produce)).toMatchObject({ baseOffset: 0, count: 3 });
      const epoch = a.partition.log.state.epoch;
      const b = partitions.get("events", 1, config);
      age(a, b);
      partitions.get("events", 2, config);
      expect(a.isClosed).toBe(true);
      expect([0, 1, 2].map((i) => partitions.isOpen("events", i))).toEqual([false, true, true]);
      expect(partitions.openCount).toBe(2);

      const again = partitions.get("events", 0, config);
      expect(again).not.toBe(a);
      expect(again.partition.log.state).toMatchObject({ epoch, highWatermark: 3 });
      // The producer's state came back from the file: its retry is the same batch, not a new one.
      expect(await again.partition.append(produce)).toMatchObject({
        baseOffset: 0,
        count: 3,
        duplicate: true,
      });
      expect(again.partition.log.state.highWatermark).toBe(3);
    } finally {
      partitions.closeAll();
    }
  });

  it("never closes a partition with a socket, a batch in flight or a waiting HTTP reader", async () => {
    const partitions = new Partitions(tempDir(), { synchronous: "FULL", maxOpen: 1 });
    try {
      const withSocket = partitions.get("events", 0, config);
      const peer = socket();
      withSocket.sockets.add(peer);
      const inFlight = partitions.get("events", 1, config);
      const ack = inFlight.partition.append({
        batch: batch(2),
        producerId: "",
        producerEpoch: 0,
        sequence: 0,
      });
      const waiting = partitions.get("events", 2, config);
      const ref = { topic: "events", partition: 2, config };
      const wait = waiting.service.waitForCommit({ ...ref, after: 0, ms: 30_000 });
      age(withSocket, inFlight, waiting);
      // Within the same stretch as the append: its commit is still to come.
      partitions.get("events", 3, config);
      expect(partitions.openCount).toBe(4);
      expect([withSocket, inFlight, waiting].some((o) => o.isClosed)).toBe(false);

      expect(await ack).toMatchObject({ baseOffset: 0, count: 2 });
      waiting.service.wakeReaders();
      expect(unwrap(await wait)).toEqual({ outcome: "timeout" });
      withSocket.sockets.delete(peer);
      age(withSocket, inFlight, waiting, partitions.get("events", 3, config));
      // All idle now: only the one just asked for stays.
      partitions.get("events", 0, config);
      expect([0, 1, 2, 3].map((i) => partitions.isOpen("events", i))).toEqual([
        true,
        false,
        false,
        false,
      ]);
      expect(partitions.get("events", 1, config).partition.log.state.highWatermark).toBe(2);
    } finally {
      partitions.closeAll();
    }
  });

  it("checkpoints a busy partition's write-ahead log at about 4 MiB (CHECKPOINT_PAGES)", async () => {
    const dir = tempDir();
    const partitions = new Partitions(dir, { synchronous: "FULL", maxOpen: 4 });
    try {
      const owner = partitions.get("events", 0, config);
      const value = new Uint8Array(10_000).fill(7);
      const big = encodeBatch(
        Array.from({ length: 50 }, () => ({
          key: null,
          value,
          format: ValueFormat.Bytes,
          headers: [],
          timestamp: Date.now(),
        })),
      );
      // 24 commits of 500 KB: 12 MB, below SQLite's default of 1,000 pages (16 MiB).
      for (let i = 0; i < 24; i++) {
        await owner.partition.append({ batch: big, producerId: "", producerEpoch: 0, sequence: 0 });
      }
      expect(owner.partition.log.state.highWatermark).toBe(24 * 50);
      const wal = statSync(join(dir, "logs/events/0.sqlite-wal")).size;
      expect(wal).toBeGreaterThan(3 * 1_048_576);
      expect(wal).toBeLessThan(6 * 1_048_576);
    } finally {
      partitions.closeAll();
    }
  });

  it("runs the retention of a closed partition when its alarm fires", async () => {
    const partitions = new Partitions(tempDir(), { synchronous: "FULL", maxOpen: 1 });
    try {
      const old = partitions.get("events", 0, shortLived);
      // Records an hour old: the alarm is set for the soonest it may fire (MIN_ALARM_DELAY_MS).
      await old.partition.append({
        batch: batch(5, Date.now() - 3_600_000),
        producerId: "",
        producerEpoch: 0,
        sequence: 0,
      });
      age(old);
      partitions.get("events", 1, shortLived);
      expect(old.isClosed).toBe(true);
      await sleep(1_500);
      // Its alarm opened it and trimmed it; nothing here asked for it.
      expect(partitions.isOpen("events", 0)).toBe(true);
      const owner = [...partitions.all()].find((o) => o.index === 0) as PartitionOwner;
      expect(owner.partition.log.state).toMatchObject({ logStart: 5, highWatermark: 5 });
    } finally {
      partitions.closeAll();
    }
  });

  it("after a restart, runs the time retention of stored partitions nobody asks for", async () => {
    const dataDir = tempDir();
    const settings = brokerSettings({ KAITEN_AUTH: "off" });
    const open = () =>
      new NodePort({ dataDir, settings, groupLag: (p) => (d) => groupLag(p, d), log: () => {} });
    const first = open();
    for (const [name, c] of [
      ["expiring", shortLived],
      ["kept", config],
    ] as const) {
      expect(await first.registry().create(name, c, null)).toMatchObject({ status: "created" });
      unwrap(
        await first.partition(name, 0).append({
          topic: name,
          partition: 0,
          config: c,
          batch: batch(4, Date.now() - 3_600_000),
          producerId: "",
          producerEpoch: 0,
          sequence: 0,
        }),
      );
    }
    first.partitions.flushAll();
    first.close();

    const second = open();
    try {
      await sleep(1_500);
      // Opened by the restore and trimmed; the topic without time retention and the
      // partitions never written (no file) stay closed.
      expect(second.partitions.isOpen("expiring", 0)).toBe(true);
      expect(second.partitions.isOpen("kept", 0)).toBe(false);
      expect(second.partitions.isOpen("expiring", 1)).toBe(false);
      const info = unwrap(
        await second.partition("expiring", 0).info({ topic: "expiring", partition: 0, config }),
      );
      expect(info).toMatchObject({ earliestOffset: 4, highWatermark: 4 });
      const kept = unwrap(
        await second.partition("kept", 0).info({ topic: "kept", partition: 0, config }),
      );
      expect(kept).toMatchObject({ earliestOffset: 0, highWatermark: 4 });
    } finally {
      second.close();
    }
  });
});
