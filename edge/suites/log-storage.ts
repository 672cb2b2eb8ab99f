/**
 * One behaviour suite for every LogStorage (STYLE.md habit 4): run inside workerd against
 * Durable Object SQLite (edge/test/log-storage.test.ts), and in Node against better-sqlite3
 * on disk and the in-memory storage (edge/test-core/log-storage.test.ts). A storage that
 * passes it can carry a partition log on any host.
 */
import { decodeChunk, encodeBatch, ValueFormat, type WireRecord } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import type {
  LogMeta,
  LogStorage,
  ProducerState,
  StoredChunk,
  TopicConfig,
} from "../src/core/types.ts";

export interface StorageHarness {
  /** A storage over an empty log. */
  storage: LogStorage;
  /** The same log opened again, as after a restart: new objects over the same stored data. */
  reopen(): LogStorage;
}

/** Runs `test` with a fresh harness (inside a Durable Object, where the host needs that). */
export type WithStorage = (test: (h: StorageHarness) => void | Promise<void>) => Promise<void>;

const CONFIG: TopicConfig = {
  partitions: 1,
  retentionMs: 60_000,
  retentionBytes: -1,
  maxRecordBytes: 1_000_000,
};
const utf8 = new TextEncoder();

/** A chunk of `count` records from `base`, with the given timestamps (default: all `ts`). */
export function chunkAt(base: number, count: number, ts: number | number[] = 1_000): StoredChunk {
  const times = Array.from({ length: count }, (_, i) => (Array.isArray(ts) ? (ts[i] ?? 0) : ts));
  const records: WireRecord[] = times.map((t, i) => ({
    key: null,
    value: utf8.encode(`"v${base + i}"`),
    format: ValueFormat.Json,
    headers: [],
    timestamp: t,
  }));
  return {
    baseOffset: base,
    recordCount: count,
    firstTimestamp: times[0] ?? 0,
    maxTimestamp: Math.max(...times),
    data: encodeBatch(records, base),
  };
}

function metaAfter(prev: LogMeta, chunks: StoredChunk[]): LogMeta {
  const m = { ...prev };
  for (const c of chunks) {
    m.highWatermark = c.baseOffset + c.recordCount;
    m.totalBytes += c.data.length;
    m.maxTimestamp = Math.max(m.maxTimestamp, c.maxTimestamp);
  }
  return m;
}

const EMPTY: LogMeta = { epoch: 7, logStart: 0, highWatermark: 0, totalBytes: 0, maxTimestamp: 0 };

/** Commits `chunks` one commit each (with `producers` in the last) and returns the meta. */
function commitAll(s: LogStorage, chunks: StoredChunk[], producers: ProducerState[] = []): LogMeta {
  let meta = { ...EMPTY };
  s.commit([], [], meta);
  chunks.forEach((c, i) => {
    meta = metaAfter(meta, [c]);
    s.commit([c], i === chunks.length - 1 ? producers : [], meta);
  });
  return meta;
}

function producer(id: string, lastSequence: number, updatedAt = 1): ProducerState {
  return {
    producerId: id,
    epoch: 1,
    lastSequence,
    recent: [{ sequence: lastSequence, baseOffset: lastSequence * 2, count: 2 }],
    updatedAt,
  };
}

const offsets = (chunks: StoredChunk[]) =>
  chunks.flatMap((c) => decodeChunk(c.data).map((r) => r.offset));

export function logStorageSuite(name: string, withStorage: WithStorage): void {
  describe(`LogStorage: ${name}`, () => {
    it("starts empty: no meta, no config, no chunks", () =>
      withStorage(({ storage }) => {
        expect(storage.loadMeta()).toBeNull();
        expect(storage.loadConfig()).toBeNull();
        expect(storage.oldestChunk()).toBeNull();
        expect(storage.chunkAtTimestamp(0)).toBeNull();
      }));

    it("keeps meta and config across a restart", () =>
      withStorage(({ storage, reopen }) => {
        storage.commit([], [], EMPTY);
        storage.saveConfig(CONFIG);
        const again = reopen();
        expect(again.loadMeta()).toEqual(EMPTY);
        expect(again.loadConfig()).toEqual(CONFIG);
      }));

    it("reads chunks back byte for byte, in offset order, from any offset inside them", () =>
      withStorage(({ storage }) => {
        const chunks = [chunkAt(0, 3), chunkAt(3, 1), chunkAt(4, 5)];
        commitAll(storage, chunks);
        const all = storage.readChunks(0, 1 << 20);
        expect(all.map((c) => [...c.data])).toEqual(chunks.map((c) => [...c.data]));
        expect(storage.readChunks(2, 1 << 20).map((c) => c.baseOffset)).toEqual([0, 3, 4]);
        expect(storage.readChunks(3, 1 << 20).map((c) => c.baseOffset)).toEqual([3, 4]);
        expect(storage.readChunks(9, 1 << 20)).toEqual([]);
      }));

    it("stops a page at the byte budget but always returns at least one chunk", () =>
      withStorage(({ storage }) => {
        const chunks = [chunkAt(0, 4), chunkAt(4, 4), chunkAt(8, 4)];
        commitAll(storage, chunks);
        const one = chunks[0]?.data.length ?? 0;
        expect(storage.readChunks(0, 1).map((c) => c.baseOffset)).toEqual([0]);
        expect(storage.readChunks(0, 2 * one).map((c) => c.baseOffset)).toEqual([0, 4]);
        expect(offsets(storage.readChunks(4, 1 << 20))).toEqual([4, 5, 6, 7, 8, 9, 10, 11]);
      }));

    it("recovers the high watermark, byte total and newest timestamp from the chunks after a restart", () =>
      withStorage(({ storage, reopen }) => {
        const meta = commitAll(storage, [
          chunkAt(0, 2, 5_000),
          chunkAt(2, 3, 9_000),
          chunkAt(5, 1, 7_000),
        ]);
        const again = reopen().loadMeta();
        expect(again).toEqual(meta);
        expect(again).toMatchObject({ highWatermark: 6, maxTimestamp: 9_000 });
      }));

    it("finds the first chunk holding a record at or after a time, with timestamps out of order", () =>
      withStorage(({ storage }) => {
        commitAll(storage, [
          chunkAt(0, 2, [100, 300]),
          chunkAt(2, 2, [200, 250]),
          chunkAt(4, 1, 400),
        ]);
        expect(storage.chunkAtTimestamp(50)?.baseOffset).toBe(0);
        expect(storage.chunkAtTimestamp(300)?.baseOffset).toBe(0);
        expect(storage.chunkAtTimestamp(301)?.baseOffset).toBe(4);
        expect(storage.chunkAtTimestamp(401)).toBeNull();
      }));

    it("deletes the oldest chunks and keeps the new earliest offset across a restart", () =>
      withStorage(({ storage, reopen }) => {
        const meta = commitAll(storage, [chunkAt(0, 2, 10), chunkAt(2, 2, 20), chunkAt(4, 2, 30)]);
        expect(storage.oldestChunk()).toMatchObject({
          baseOffset: 0,
          endOffset: 2,
          maxTimestamp: 10,
        });
        const first = storage.readChunks(0, 1)[0] as StoredChunk;
        const trimmed = { ...meta, logStart: 2, totalBytes: meta.totalBytes - first.data.length };
        storage.deleteChunksThrough(2, trimmed);
        expect(storage.oldestChunk()).toMatchObject({ baseOffset: 2, endOffset: 4 });
        const again = reopen();
        expect(again.loadMeta()).toEqual(trimmed);
        expect(offsets(again.readChunks(0, 1 << 20))).toEqual([2, 3, 4, 5]);
      }));

    it("keeps the high watermark when retention deletes every chunk", () =>
      withStorage(({ storage, reopen }) => {
        const meta = commitAll(storage, [chunkAt(0, 3)]);
        storage.deleteChunksThrough(3, { ...meta, logStart: 3, totalBytes: 0 });
        expect(reopen().loadMeta()).toMatchObject({ logStart: 3, highWatermark: 3, totalBytes: 0 });
      }));

    it("answers committed producer states, and recovers them after a restart", () =>
      withStorage(({ storage, reopen }) => {
        commitAll(storage, [chunkAt(0, 2)], [producer("a", 0)]);
        expect(storage.loadProducer("a")).toEqual(producer("a", 0));
        expect(storage.loadProducer("nobody")).toBeNull();
        expect(reopen().loadProducer("a")).toEqual(producer("a", 0));
      }));

    it("recovers the newest state of each producer across many commits and retention", () =>
      withStorage(({ storage, reopen }) => {
        let meta = { ...EMPTY };
        storage.commit([], [], meta);
        for (let i = 0; i < 70; i++) {
          const c = chunkAt(i, 1);
          meta = metaAfter(meta, [c]);
          storage.commit([c], [producer(i % 2 ? "odd" : "even", i)], meta);
        }
        meta = { ...meta, logStart: 69, totalBytes: 0 };
        storage.deleteChunksThrough(69, meta);
        const again = reopen();
        expect(again.loadProducer("even")?.lastSequence).toBe(68);
        expect(again.loadProducer("odd")?.lastSequence).toBe(69);
      }));

    it("prunes producers down to the most recently active", () =>
      withStorage(({ storage, reopen }) => {
        let meta = { ...EMPTY };
        storage.commit([], [], meta);
        const states = [producer("old", 0, 1), producer("mid", 1, 2), producer("new", 2, 3)];
        // 40 commits: states ride in the first; the 32nd checkpoints them into their table.
        for (let i = 0; i < 40; i++) {
          const c = chunkAt(i, 1);
          meta = metaAfter(meta, [c]);
          storage.commit([c], i === 0 ? states : [], meta);
        }
        storage.pruneProducers(2);
        const again = reopen();
        expect(again.loadProducer("old")).toBeNull();
        expect(again.loadProducer("mid")?.lastSequence).toBe(1);
        expect(again.loadProducer("new")?.lastSequence).toBe(2);
      }));

    it("forgets everything on deleteAll, across a restart too", () =>
      withStorage(({ storage, reopen }) => {
        commitAll(storage, [chunkAt(0, 2)], [producer("a", 0)]);
        storage.saveConfig(CONFIG);
        storage.deleteAll();
        expect(storage.loadMeta()).toBeNull();
        expect(storage.loadProducer("a")).toBeNull();
        const again = reopen();
        expect(again.loadMeta()).toBeNull();
        expect(again.loadConfig()).toBeNull();
        expect(again.readChunks(0, 1 << 20)).toEqual([]);
      }));
  });
}
