/**
 * WebSocket protocol v1 as every host must serve it (docs/PROTOCOL.md §5, §6, §8, §9):
 * produce, subscribe from any position, idempotent retries, bad frames answered on their
 * socket only, refusals over the socket. Run against each host by a one-line test file.
 */
import {
  decodeFrame,
  ErrorCode,
  FrameType,
  Limits,
  StartFrom,
  type StoredRecord,
} from "@kaiten/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type Broker, useBroker } from "../lib/broker.ts";
import {
  Connection,
  jsonRecord,
  jsonValue,
  type OutgoingBatch,
  type PipelineResult,
  ProtocolError,
  pipeline,
  type Subscription,
  socketUrl,
} from "../lib/client.ts";
import { postJson } from "../lib/http.ts";
import type { HostUnderTest } from "./hosts.ts";

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

export function websocketSuite(host: HostUnderTest): void {
  describe(`WebSocket protocol v1 on ${host.name}`, () => {
    const broker = useBroker(host.broker);

    it("acknowledges produces with contiguous offsets and serves them from any offset (§5.1, §5.2)", async () => {
      const c = await Connection.open(broker().url, "ws-basic", 0);
      const acks = [];
      for (let b = 0; b < 5; b++)
        acks.push(await c.produce([jsonRecord({ b, i: 0 }), jsonRecord({ b, i: 1 })]));
      expect(acks.map((a) => a.baseOffset)).toEqual([0, 2, 4, 6, 8]);
      const reader = await Connection.open(broker().url, "ws-basic", 0);
      const sub = await reader.subscribe({ from: StartFrom.Offset, position: 3 });
      await c.produce([jsonRecord({ b: 5, i: 0 })]);
      await sub.waitForOffset(11);
      expect(sub.offsets()).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
      expect(jsonValue(sub.records[7] as never)).toEqual({ b: 5, i: 0 });
      await Promise.all([c.close(), reader.close()]);
    });

    it("stores an idempotent retry once and answers it with the original offsets (§6)", async () => {
      const c = await Connection.open(broker().url, "ws-idem", 0);
      const producer = { producerId: "p", producerEpoch: 1, sequence: 0 };
      const first = await c.produce([jsonRecord(1)], producer);
      const again = await c.produce([jsonRecord(1)], producer);
      expect(again).toMatchObject({ baseOffset: first.baseOffset, duplicate: true });
      await expect(c.produce([jsonRecord(2)], { ...producer, sequence: 5 })).rejects.toMatchObject({
        frame: { code: "SEQUENCE_GAP", detail: 1 },
      });
      const reader = await Connection.open(broker().url, "ws-idem", 0);
      const sub = await reader.subscribe({ from: StartFrom.Earliest });
      expect(sub.subscribed.highWatermark).toBe(1);
      await Promise.all([c.close(), reader.close()]);
    });

    it("answers a bad frame with ERROR on that socket only, and keeps it open (§8)", async () => {
      const c = await Connection.open(broker().url, "ws-bad", 0);
      const raw = new WebSocket(socketUrl(broker().url, "ws-bad", 0), "kaiten.v1");
      await new Promise((r) => raw.once("open", r));
      const answers: Buffer[] = [];
      raw.on("message", (d) => answers.push(d as Buffer));
      raw.send(Buffer.from([0x7f, 1, 2]));
      raw.send("ping");
      await expect.poll(() => answers.length).toBe(2);
      expect(answers[0]?.[0]).toBe(0x84);
      expect(answers[1]?.toString()).toBe("pong");
      expect(await c.produce([jsonRecord("still fine")])).toMatchObject({ baseOffset: 0 });
      expect(c.unsolicitedErrors).toEqual([]);
      raw.close();
      await c.close();
    });

    it("refuses a bad topic name over the socket: ERROR, then close 4000 + its number (§9)", async () => {
      const c = await Connection.open(broker().url, "bad name!", 0);
      expect((await c.closed).code).toBe(4000 + ErrorCode.INVALID_TOPIC);
      expect(c.unsolicitedErrors[0]?.code).toBe("INVALID_TOPIC");
    });

    it("refuses a partition the topic does not have (§9)", async () => {
      const c = await Connection.open(broker().url, "ws-parts", 3);
      expect((await c.closed).code).toBe(4000 + ErrorCode.INVALID_PARTITION);
    });

    it("refuses a subscription beyond the log with OFFSET_OUT_OF_RANGE and the earliest offset (§8)", async () => {
      const c = await Connection.open(broker().url, "ws-range", 0);
      const error = await c.subscribe({ from: StartFrom.Offset, position: 99 }).catch((e) => e);
      expect(error).toBeInstanceOf(ProtocolError);
      expect((error as ProtocolError).frame).toMatchObject({
        code: "OFFSET_OUT_OF_RANGE",
        detail: 0,
      });
      await c.close();
    });

    it("answers a frame over 1 MiB with FRAME_TOO_LARGE and keeps the socket open (§7)", async () => {
      const raw = new WebSocket(socketUrl(broker().url, "ws-big", 0), "kaiten.v1");
      await new Promise((r) => raw.once("open", r));
      const answers: Buffer[] = [];
      raw.on("message", (d) => answers.push(d as Buffer));
      let closed: number | null = null;
      raw.on("close", (code) => {
        closed = code;
      });
      const big = new Uint8Array(Limits.maxFrameBytes + 1_000);
      big[0] = FrameType.Produce;
      raw.send(big);
      raw.send("ping");
      await expect.poll(() => answers.length).toBe(2);
      expect(decodeFrame(answers[0] as Buffer)).toMatchObject({ code: "FRAME_TOO_LARGE" });
      expect(answers[1]?.toString()).toBe("pong");
      expect(closed).toBeNull();
      raw.close();
    });

    concurrentFanout(broker);
  });
}

/**
 * Concurrent producers on one partition (one plain, two idempotent) while subscribers that
 * started at different positions, one of them under tight credit, receive every record once
 * and in order (§5.1, §5.2, §5.3, §6).
 */
function concurrentFanout(broker: () => Broker): void {
  const TOPIC = "fanout";

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
    expect(
      (await postJson(`${broker().url}/v1/topics`, { name: TOPIC, partitions: 1 })).status,
    ).toBe(201);
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

  describe("concurrent producers and subscribers on one partition (§5)", () => {
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
}
