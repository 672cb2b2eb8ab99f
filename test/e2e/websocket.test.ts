/**
 * Producers and subscribers on WebSockets through the public URL of a real broker
 * (docs/PROTOCOL.md §5 frames, §6 idempotence): concurrent producers on one partition while
 * subscribers that started at different positions receive every record once, in order.
 */
import { StartFrom, type StoredRecord } from "@kaiten/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import {
  Connection,
  jsonRecord,
  jsonValue,
  type OutgoingBatch,
  type PipelineResult,
  pipeline,
  type Subscription,
} from "../lib/client.ts";
import { postJson } from "../lib/http.ts";

const broker = useBroker();
const TOPIC = "fanout";
const SEED = 40;
const PRODUCERS = 3;
const BATCHES = 50;
const PER_BATCH = 20;
const WINDOW = 4;
const END = SEED + PRODUCERS * BATCHES * PER_BATCH;

interface Value {
  p: number;
  b: number;
  i: number;
}

const connections: Connection[] = [];
async function connect(): Promise<Connection> {
  const c = await Connection.open(broker().url, TOPIC, 0);
  connections.push(c);
  return c;
}

/** Producer 0 is not idempotent; 1 and 2 carry an identity and strict sequences (§6). */
function batchesOf(p: number): OutgoingBatch[] {
  return Array.from({ length: BATCHES }, (_, b) => ({
    records: Array.from({ length: PER_BATCH }, (_, i) => jsonRecord({ p, b, i } satisfies Value)),
    producer: p === 0 ? undefined : { producerId: `ws-${p}`, producerEpoch: 1, sequence: b },
  }));
}

let fromEarliest: Subscription;
let fromLatest: Subscription;
let fromOffset: Subscription;
let results: PipelineResult[];
let sent: OutgoingBatch[][];

beforeAll(async () => {
  expect((await postJson(`${broker().url}/v1/topics`, { name: TOPIC, partitions: 1 })).status).toBe(
    201,
  );
  const seeder = await connect();
  const seed = Array.from({ length: SEED }, (_, i) => jsonRecord({ p: -1, b: 0, i }));
  expect(await seeder.produce(seed)).toMatchObject({ baseOffset: 0, count: SEED });

  fromEarliest = await (await connect()).subscribe({ from: StartFrom.Earliest });
  fromLatest = await (await connect()).subscribe({ from: StartFrom.Latest });
  // A small window: the broker runs out of credit often and must resume from the log.
  fromOffset = await (await connect()).subscribe({
    from: StartFrom.Offset,
    position: 17,
    credit: 4_096,
  });

  sent = Array.from({ length: PRODUCERS }, (_, p) => batchesOf(p));
  const producers = await Promise.all(sent.map(() => connect()));
  results = await Promise.all(producers.map((c, p) => pipeline(c, sent[p] ?? [], WINDOW)));
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.close()));
});

/** The value each acknowledged offset must hold, from the acks and what was sent. */
function expectedByOffset(): Map<number, string> {
  const byOffset = new Map<number, string>();
  for (let i = 0; i < SEED; i++) byOffset.set(i, JSON.stringify({ p: -1, b: 0, i }));
  results.forEach((r, p) => {
    r.acks.forEach((ack, b) => {
      const records = sent[p]?.[b]?.records ?? [];
      records.forEach((rec, i) => {
        byOffset.set((ack?.baseOffset ?? Number.NaN) + i, new TextDecoder().decode(rec.value));
      });
    });
  });
  return byOffset;
}

function expectExactly(sub: Subscription, start: number): void {
  const offsets = sub.offsets();
  expect(offsets.length).toBe(END - start);
  expect(offsets).toEqual(Array.from({ length: END - start }, (_, i) => start + i));
  const expected = expectedByOffset();
  const wrong = sub.records.filter(
    (r: StoredRecord) => new TextDecoder().decode(r.value) !== expected.get(r.offset),
  );
  expect(wrong.map((r) => r.offset)).toEqual([]);
}

describe("produce and subscribe over WebSockets (§5)", () => {
  it("acknowledges every batch of every producer without an error", () => {
    for (const r of results) {
      expect(r.failure).toBeNull();
      expect(r.acks.filter(Boolean).length).toBe(BATCHES);
    }
  });

  it("gives the acknowledged batches contiguous, non-overlapping offsets (§5.1)", () => {
    const ranges = results
      .flatMap((r) => r.acks.map((a) => [a?.baseOffset ?? -1, a?.count ?? 0] as const))
      .sort((a, b) => a[0] - b[0]);
    let next = SEED;
    for (const [base, count] of ranges) {
      expect(base).toBe(next);
      expect(count).toBe(PER_BATCH);
      next = base + count;
    }
    expect(next).toBe(END);
    const epochs = new Set(results.flatMap((r) => r.acks.map((a) => a?.epoch)));
    expect([...epochs]).toEqual([fromEarliest.subscribed.epoch]);
    expect(results.flatMap((r) => r.acks.filter((a) => a?.duplicate))).toEqual([]);
  });

  it("keeps each producer's batches in the order it sent them", () => {
    for (const r of results) {
      const bases = r.acks.map((a) => a?.baseOffset ?? -1);
      expect(bases).toEqual([...bases].sort((a, b) => a - b));
    }
  });

  it("tells each subscriber where it starts (§5.2)", () => {
    expect(fromEarliest.subscribed).toMatchObject({ startOffset: 0, highWatermark: SEED });
    expect(fromLatest.subscribed).toMatchObject({ startOffset: SEED, highWatermark: SEED });
    expect(fromOffset.subscribed).toMatchObject({ startOffset: 17, earliestOffset: 0 });
  });

  it("delivers every record once and in order to a subscriber from the earliest offset", async () => {
    await fromEarliest.waitForOffset(END);
    expectExactly(fromEarliest, 0);
  });

  it("delivers every later record once and in order to a subscriber from the latest offset", async () => {
    await fromLatest.waitForOffset(END);
    expectExactly(fromLatest, SEED);
  });

  it("delivers from a given offset under tight credit, once and in order (§5.3)", async () => {
    await fromOffset.waitForOffset(END);
    expectExactly(fromOffset, 17);
    // 4 KiB of credit cannot hold the stream: the subscriber must have been paused and resumed.
    expect(fromOffset.frames).toBeGreaterThan(10);
  });

  it("sends no unsolicited errors to anyone", () => {
    expect(connections.flatMap((c) => c.unsolicitedErrors)).toEqual([]);
    for (const s of [fromEarliest, fromLatest, fromOffset]) expect(s.error).toBeNull();
  });
});

describe("values survive the trip (§5)", () => {
  it("gives a subscriber the JSON values the producers sent", async () => {
    await fromLatest.waitForOffset(END);
    const values = fromLatest.records.map((r) => jsonValue<Value>(r));
    for (let p = 0; p < PRODUCERS; p++) {
      const mine = values.filter((v) => v.p === p).map((v) => v.b * PER_BATCH + v.i);
      expect(mine).toEqual(Array.from({ length: BATCHES * PER_BATCH }, (_, k) => k));
    }
  });
});
