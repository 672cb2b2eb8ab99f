/**
 * Property tests of the partition log's invariants (docs/ARCHITECTURE.md, The partition log),
 * in plain Node over the in-memory storage and over SQLite on disk: random runs of produce,
 * retry, group commit, retention, crash and restart, checked after every step against a
 * model of what was acknowledged.
 *
 * - Acknowledged offsets are contiguous and increasing: together they cover [0, HW) exactly.
 * - A resume from any acknowledged offset still retained reads every later record, in order,
 *   with no gap and no duplicate.
 * - Retention and restarts never move the high watermark back.
 * - A retried idempotent batch is answered with its original offsets and stored once.
 * - A crash loses only what was never acknowledged.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeChunk, encodeBatch, ValueFormat } from "@kaiten/protocol";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MemoryLogStorage, memoryDisk } from "../src/core/memory-log-storage.ts";
import { type AppendResult, PartitionLog } from "../src/core/partition-log.ts";
import { SqliteLogStorage } from "../src/core/sqlite-log-storage.ts";
import type { Host, LogStorage, TopicConfig } from "../src/core/types.ts";
import { type NodeSql, openSqlite } from "../src/node/sqlite.ts";

const CONFIG: TopicConfig = {
  partitions: 1,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: 1_000_000,
};
const PRODUCERS = ["", "p1", "p2"] as const;
const utf8 = new TextEncoder();
const text = new TextDecoder();

type Step =
  | { kind: "produce"; producer: number; count: number }
  | { kind: "retry"; producer: number }
  | { kind: "commit" }
  | { kind: "retain"; keepBytes: number }
  | { kind: "crash" };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("produce" as const),
      producer: fc.nat(2),
      count: fc.integer({ min: 1, max: 4 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("retry" as const),
      producer: fc.integer({ min: 1, max: 2 }),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: "commit" as const }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("retain" as const), keepBytes: fc.nat(600) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "crash" as const }) },
);

/** A storage that can be opened again over the same stored data, as after a crash. */
interface Disk {
  open(): LogStorage;
  close(): void;
}

/** A host whose deferred work (the group commit) runs only when the test says so. */
class TestHost implements Host {
  deferred: Array<() => void> = [];
  errors: unknown[] = [];
  now = () => 1_000_000;
  randomEpoch = () => 42;
  defer = (fn: () => void) => void this.deferred.push(fn);
  log = (message: string, error?: unknown) => void this.errors.push([message, error]);
  runDeferred(): void {
    for (const fn of this.deferred.splice(0)) fn();
  }
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Sent {
  producer: number;
  sequence: number;
  values: string[];
}

class Model {
  host = new TestHost();
  log: PartitionLog;
  /** Value of every acknowledged offset. */
  acked = new Map<number, string>();
  /** First ack of each idempotent batch, by "producer/sequence". */
  firstAck = new Map<string, AppendResult>();
  lastSent = new Map<number, Sent>();
  nextSequence = new Map<number, number>();
  highWatermark = 0;
  batches = 0;

  constructor(private readonly disk: Disk) {
    this.log = this.start();
  }

  private start(): PartitionLog {
    this.host = new TestHost();
    return new PartitionLog(this.disk.open(), this.host, CONFIG, () => {});
  }

  async apply(s: Step): Promise<void> {
    if (s.kind === "produce") this.produce(s.producer, s.count);
    else if (s.kind === "retry") this.retry(s.producer);
    else if (s.kind === "commit") this.host.runDeferred();
    else if (s.kind === "retain") this.retain(s.keepBytes);
    else this.crash();
    await tick();
    await tick();
  }

  private produce(producer: number, count: number): void {
    const id = this.batches++;
    const values = Array.from({ length: count }, (_, i) => `b${id}-${i}`);
    const sequence = this.nextSequence.get(producer) ?? 0;
    if (producer > 0) this.nextSequence.set(producer, sequence + 1);
    const sent = { producer, sequence, values };
    this.lastSent.set(producer, sent);
    this.send(sent);
  }

  private retry(producer: number): void {
    const sent = this.lastSent.get(producer);
    if (sent) this.send(sent);
  }

  private send(sent: Sent): void {
    const records = sent.values.map((v) => ({
      key: null,
      value: utf8.encode(JSON.stringify(v)),
      format: ValueFormat.Json,
      headers: [],
      timestamp: 1_000_000,
    }));
    const id = PRODUCERS[sent.producer] as string;
    const promise = this.log.append({
      batch: encodeBatch(records),
      producerId: id,
      producerEpoch: id ? 1 : 0,
      sequence: id ? sent.sequence : 0,
      sequencing: "strict",
    });
    promise.then(
      (r) => this.onAck(sent, r),
      () => {},
    );
  }

  private onAck(sent: Sent, r: AppendResult): void {
    const key = `${sent.producer}/${sent.sequence}`;
    const first = sent.producer > 0 ? this.firstAck.get(key) : undefined;
    if (first) {
      // A retry: the original offsets, marked duplicate, nothing stored again.
      expect(r).toEqual({ ...first, duplicate: true });
      return;
    }
    expect(r.duplicate).toBe(false);
    expect(r.count).toBe(sent.values.length);
    if (sent.producer > 0) this.firstAck.set(key, r);
    sent.values.forEach((v, i) => {
      expect(this.acked.has(r.baseOffset + i)).toBe(false);
      this.acked.set(r.baseOffset + i, v);
    });
  }

  private retain(keepBytes: number): void {
    this.log.configure({ ...CONFIG, retentionBytes: keepBytes });
    this.log.enforceRetention(this.host.now());
    this.log.configure(CONFIG);
  }

  /** Stops without committing what is pending: those batches were never acknowledged. */
  private crash(): void {
    this.host.deferred = [];
    this.disk.close();
    this.log = this.start();
    // Each idempotent producer carries on from its last acknowledged sequence + 1.
    for (const [producer, next] of this.nextSequence) {
      let acked = next - 1;
      while (acked >= 0 && !this.firstAck.has(`${producer}/${acked}`)) acked--;
      this.nextSequence.set(producer, acked + 1);
    }
    for (const [producer, sent] of this.lastSent) {
      if (producer > 0 && !this.firstAck.has(`${producer}/${sent.sequence}`)) {
        this.lastSent.delete(producer);
      }
    }
  }

  check(): void {
    const { logStart, highWatermark } = this.log.state;
    expect(this.host.errors).toEqual([]);
    expect(highWatermark).toBeGreaterThanOrEqual(this.highWatermark);
    this.highWatermark = highWatermark;
    // Every acknowledged offset is below the HW, and together they fill [0, HW).
    expect(this.acked.size).toBe(highWatermark);
    for (let o = 0; o < highWatermark; o++) expect(this.acked.has(o)).toBe(true);
    for (const from of [logStart, ...this.acked.keys()].filter((o) => o >= logStart)) {
      expect(this.readFrom(from)).toEqual(this.expectedFrom(from));
    }
  }

  private readFrom(from: number): string[] {
    const out: string[] = [];
    let next = from;
    while (next < this.log.state.highWatermark) {
      const chunks = this.log.read(next, 64);
      for (const c of chunks) {
        for (const r of decodeChunk(c.data)) {
          if (r.offset >= next) out.push(`${r.offset}:${JSON.parse(text.decode(r.value))}`);
        }
      }
      const last = chunks[chunks.length - 1];
      if (!last) throw new Error(`no chunk at ${next}`);
      next = last.baseOffset + last.recordCount;
    }
    return out;
  }

  private expectedFrom(from: number): string[] {
    const out: string[] = [];
    for (let o = from; o < this.highWatermark; o++) out.push(`${o}:${this.acked.get(o)}`);
    return out;
  }
}

async function run(disk: Disk, steps: Step[]): Promise<void> {
  const model = new Model(disk);
  try {
    for (const s of [...steps, { kind: "commit" } as const]) {
      await model.apply(s);
      model.check();
    }
  } finally {
    disk.close();
  }
}

const dir = mkdtempSync(join(tmpdir(), "kaiten-props-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function sqliteDisk(): Disk {
  const path = join(dir, `log-${++files}.sqlite`);
  let db: NodeSql | null = null;
  return {
    open: () => {
      // Durability is not what these runs check; OFF keeps a few hundred runs quick.
      db = openSqlite(path, { synchronous: "OFF" });
      return new SqliteLogStorage(db);
    },
    close: () => {
      db?.close();
      db = null;
    },
  };
}

function memDisk(): Disk {
  const disk = memoryDisk();
  return { open: () => new MemoryLogStorage(disk), close: () => {} };
}

describe("partition log invariants", () => {
  it("hold over the in-memory storage", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 80, size: "large" }), (steps) =>
        run(memDisk(), steps),
      ),
      { numRuns: 100 },
    );
  });

  it("hold over SQLite on disk", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 80, size: "large" }), (steps) =>
        run(sqliteDisk(), steps),
      ),
      { numRuns: 40 },
    );
  });
});
