/**
 * An ack means durable (docs/PROTOCOL.md §2). The broker writes a group commit with
 * synchronous SQLite calls (transactionSync in sqlite-log-storage.ts) and only then resolves
 * the appends; PartitionObject.produce() sends PRODUCE_ACK after that. A Durable Object's
 * output gate holds every outgoing message until the writes before it are confirmed durable,
 * so a producer can never see an ack for a write that a crash could still lose. Here the
 * "crash" is abortAllDurableObjects(): every instance is dropped with its memory, and the
 * next request builds a fresh one from storage.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { FrameType } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  expected,
  http,
  isType,
  makeRecords,
  openSocket,
  partitionInfo,
  readAllHttp,
  uniqueTopic,
} from "./helpers.ts";

describe("an acknowledged write survives a crash", () => {
  it("keeps every acknowledged WebSocket batch, once and in order, after the object is aborted (§2, §5.1)", async () => {
    const topic = uniqueTopic("acked");
    const producer = await openSocket(topic);
    const batches = [0, 1, 2].map((b) => makeRecords(5, { prefix: `b${b}` }));
    const acks = await producer.produceEach(batches);

    await abortAllDurableObjects();
    expect((await producer.closed).code).toBe(1006);

    const { records } = await readAllHttp(topic);
    const want = batches.flatMap((b, i) => expected(b, acks[i]?.baseOffset ?? -1));
    expect(records).toEqual(want.map((r) => ({ ...r, value: JSON.parse(r.value) })));
    expect((await partitionInfo(topic)).highWatermark).toBe(15);
  });

  it("keeps what was acknowledged when the crash lands while more batches are in flight", async () => {
    const topic = uniqueTopic("inflight");
    const producer = await openSocket(topic);
    const batches = Array.from({ length: 40 }, (_, b) => makeRecords(2, { prefix: `b${b}` }));
    const ids = batches.map((b) => producer.produce(b));
    const first = await producer.waitFor(isType(FrameType.ProduceAck), "a first ack");
    await abortAllDurableObjects();
    await producer.closed;
    // Every ack that reached the client before the crash.
    const acked = [first, ...producer.queued].filter(isType(FrameType.ProduceAck));

    const { records } = await readAllHttp(topic);
    // No gap and no duplicate: offsets are exactly 0..hw-1, each batch at most once.
    expect(records.map((r) => r.offset)).toEqual(records.map((_, i) => i));
    const values = records.map((r) => r.value as string);
    expect(new Set(values).size).toBe(values.length);
    expect(records.length).toBeGreaterThanOrEqual(acked.length * 2);
    for (const ack of acked) {
      const index = ids.indexOf(ack.requestId);
      const want = expected(batches[index] ?? [], ack.baseOffset);
      const got = records.slice(ack.baseOffset, ack.baseOffset + ack.count);
      expect(got).toEqual(want.map((r) => ({ ...r, value: JSON.parse(r.value) })));
    }
  });

  it("keeps a batch acknowledged over HTTP after the object is aborted (§2, §11.2)", async () => {
    const topic = uniqueTopic("http-acked");
    const res = await http("POST", `/v1/topics/${topic}/records`, {
      records: [{ value: "a" }, { value: "b" }, { key: "k", value: "c" }],
    });
    expect(res.status).toBe(200);
    await abortAllDurableObjects();
    const { records } = await readAllHttp(topic);
    expect(records).toEqual([
      { offset: 0, key: null, value: "a" },
      { offset: 1, key: null, value: "b" },
      { offset: 2, key: "k", value: "c" },
    ]);
  });
});
