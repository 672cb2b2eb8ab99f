/**
 * Idempotent producers (docs/PROTOCOL.md §6): a producer is (id, epoch) and numbers its
 * batches. A retried batch is answered with its original offsets and stored once; an older
 * epoch is fenced; a gap is refused, naming the sequence expected (§8 detail).
 *
 * Each WebSocket test waits for an answer before it sends the next sequence: in this harness
 * the pool's Durable Object wrapper can start message handlers out of arrival order (see
 * group-commit.test.ts), which would turn a pipelined 0, 1 into a gap.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { FrameType, type ProducerIdentity } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  chunkRows,
  createTopic,
  expectHttpError,
  http,
  makeRecords,
  openSocket,
  partitionInfo,
  readAllHttp,
  type TestSocket,
  uniqueTopic,
} from "./helpers.ts";

function producer(sequence: number, producerEpoch = 1, producerId = "p1"): ProducerIdentity {
  return { producerId, producerEpoch, sequence };
}

async function produceAnswer(socket: TestSocket, sequence: number, epoch = 1, id = "p1") {
  const records = makeRecords(3, { prefix: `${id}-e${epoch}-s${sequence}` });
  return socket.reply(socket.produce(records, producer(sequence, epoch, id)));
}

describe("idempotent producer over WebSocket (§6)", () => {
  it("answers a retried batch with its original offsets, flagged duplicate, and stores nothing new", async () => {
    const topic = uniqueTopic("retry");
    const socket = await openSocket(topic);
    const b0 = makeRecords(3, { prefix: "first" });
    const b1 = makeRecords(3, { prefix: "second" });
    const a0 = await socket.produceAck(b0, producer(0));
    const a1 = await socket.produceAck(b1, producer(1));
    expect([a0.baseOffset, a1.baseOffset]).toEqual([0, 3]);
    const rows = await chunkRows(topic);

    const r1 = await socket.produceAck(b1, producer(1));
    const r0 = await socket.produceAck(b0, producer(0));
    expect(r1).toMatchObject({ baseOffset: 3, count: 3, epoch: a1.epoch, duplicate: true });
    expect(r0).toMatchObject({ baseOffset: 0, count: 3, epoch: a0.epoch, duplicate: true });
    // A reconnected producer is recognized too: the state belongs to the partition.
    const again = await openSocket(topic);
    expect(await again.produceAck(b1, producer(1))).toMatchObject({
      baseOffset: 3,
      duplicate: true,
    });

    expect((await partitionInfo(topic)).highWatermark).toBe(6);
    expect(await chunkRows(topic)).toBe(rows);
    const { records } = await readAllHttp(topic);
    expect(records.map((r) => r.value)).toEqual([
      ...["first-0", "first-1", "first-2"],
      ...["second-0", "second-1", "second-2"],
    ]);
    socket.close();
    again.close();
  });

  it("answers a copy sent before the first was committed with the same offsets", async () => {
    const topic = uniqueTopic("inflight");
    const socket = await openSocket(topic);
    const batch = makeRecords(3);
    const ids = [socket.produce(batch, producer(0)), socket.produce(batch, producer(0))];
    const acks = [];
    for (const id of ids) acks.push(await socket.reply(id));
    expect(acks.map((a) => a.type)).toEqual([FrameType.ProduceAck, FrameType.ProduceAck]);
    const [x, y] = acks as Array<{ baseOffset: number; duplicate: boolean }>;
    expect(x?.baseOffset).toBe(0);
    expect(y?.baseOffset).toBe(0);
    expect([x?.duplicate, y?.duplicate].sort()).toEqual([false, true]);
    expect((await partitionInfo(topic)).highWatermark).toBe(3);
    socket.close();
  });

  it("fences an older producer epoch with PRODUCER_FENCED naming the current epoch", async () => {
    const topic = uniqueTopic("fenced");
    const socket = await openSocket(topic);
    expect((await produceAnswer(socket, 0, 2)).type).toBe(FrameType.ProduceAck);
    const requestId = socket.produce(makeRecords(1), producer(1, 1));
    expect(await socket.reply(requestId)).toMatchObject({
      type: FrameType.Error,
      requestId,
      code: "PRODUCER_FENCED",
      retriable: false,
      detail: 2,
    });
    expect((await partitionInfo(topic)).highWatermark).toBe(3);
    socket.close();
  });

  it("refuses a sequence gap with SEQUENCE_GAP naming the expected sequence, then accepts it", async () => {
    const topic = uniqueTopic("gap");
    const socket = await openSocket(topic);
    await produceAnswer(socket, 0);
    await produceAnswer(socket, 1);
    expect(await produceAnswer(socket, 3)).toMatchObject({
      type: FrameType.Error,
      code: "SEQUENCE_GAP",
      retriable: false,
      detail: 2,
    });
    expect((await partitionInfo(topic)).highWatermark).toBe(6);
    expect(await produceAnswer(socket, 2)).toMatchObject({
      type: FrameType.ProduceAck,
      baseOffset: 6,
      duplicate: false,
    });
    socket.close();
  });

  it("accepts a new epoch that starts at sequence 0 and refuses one that starts elsewhere", async () => {
    const topic = uniqueTopic("epochs");
    const socket = await openSocket(topic);
    await produceAnswer(socket, 0, 1);
    await produceAnswer(socket, 1, 1);
    expect(await produceAnswer(socket, 5, 2)).toMatchObject({ code: "SEQUENCE_GAP", detail: 0 });
    expect(await produceAnswer(socket, 0, 2)).toMatchObject({
      type: FrameType.ProduceAck,
      baseOffset: 6,
      duplicate: false,
    });
    expect(await produceAnswer(socket, 2, 1)).toMatchObject({ code: "PRODUCER_FENCED", detail: 2 });
    expect((await partitionInfo(topic)).highWatermark).toBe(9);
    socket.close();
  });

  it("answers a retry older than the last eight batches with DUPLICATE_TOO_OLD", async () => {
    const topic = uniqueTopic("too-old");
    const socket = await openSocket(topic);
    for (let s = 0; s <= 9; s++) await produceAnswer(socket, s);
    expect(await produceAnswer(socket, 1)).toMatchObject({ code: "DUPLICATE_TOO_OLD" });
    expect(await produceAnswer(socket, 2)).toMatchObject({ baseOffset: 6, duplicate: true });
    expect((await partitionInfo(topic)).highWatermark).toBe(30);
    socket.close();
  });

  it("keeps each producer's sequence separately", async () => {
    const topic = uniqueTopic("two");
    const socket = await openSocket(topic);
    expect(await produceAnswer(socket, 0, 1, "a")).toMatchObject({ baseOffset: 0 });
    expect(await produceAnswer(socket, 0, 1, "b")).toMatchObject({
      baseOffset: 3,
      duplicate: false,
    });
    expect(await produceAnswer(socket, 1, 1, "a")).toMatchObject({
      baseOffset: 6,
      duplicate: false,
    });
    socket.close();
  });

  it("still recognizes a retry after the object restarts", async () => {
    const topic = uniqueTopic("restart");
    const before = await openSocket(topic);
    await produceAnswer(before, 0);
    await produceAnswer(before, 1);
    await abortAllDurableObjects();
    const after = await openSocket(topic);
    expect(await produceAnswer(after, 1)).toMatchObject({ baseOffset: 3, duplicate: true });
    expect(await produceAnswer(after, 3)).toMatchObject({ code: "SEQUENCE_GAP", detail: 2 });
    expect(await produceAnswer(after, 2)).toMatchObject({ baseOffset: 6, duplicate: false });
    after.close();
  });
});

describe("idempotent producer over HTTP (§6 rule 5, §11.2)", () => {
  const post = (topic: string, body: unknown, headers?: Record<string, string>) =>
    http("POST", `/v1/topics/${topic}/records`, body, headers);

  it("returns the same offsets for a retried request and stores it once", async () => {
    const topic = uniqueTopic("http-retry");
    const body = {
      producerId: "h1",
      producerEpoch: 1,
      sequence: 0,
      records: [{ value: 1 }, { value: 2 }, { value: 3 }],
    };
    const first = await post(topic, body);
    expect(first.status).toBe(200);
    const retry = await post(topic, body);
    expect(retry.status).toBe(200);
    expect(retry.body.offsets).toEqual(first.body.offsets);
    const { records } = await readAllHttp(topic);
    expect(records.map((r) => r.value)).toEqual([1, 2, 3]);
  });

  it("sends a retried request to the same partitions of a multi-partition topic", async () => {
    const topic = uniqueTopic("http-parts");
    await createTopic(topic, { partitions: 4 });
    const records = [{ value: "x" }, { value: "y" }, { key: "k1", value: "z" }];
    const bodies = [0, 1, 2].map((sequence) => ({ producerId: "h2", sequence, records }));
    const firsts = [];
    for (const b of bodies) firsts.push((await post(topic, b)).body.offsets);
    for (const [i, b] of bodies.entries()) {
      const retry = await post(topic, b);
      expect(retry.status).toBe(200);
      expect(retry.body.offsets).toEqual(firsts[i]);
    }
    const info = await http("GET", `/v1/topics/${topic}`);
    const total = info.body.partitions.reduce(
      (n: number, p: { highWatermark: number }) => n + p.highWatermark,
      0,
    );
    expect(total).toBe(9);
  });

  it("puts every record of a request with `partition` there, keyed or not, and a retry too", async () => {
    const topic = uniqueTopic("http-partition");
    await createTopic(topic, { partitions: 4 });
    const records = [{ value: "x" }, { key: "k1", value: "y" }, { key: "k2", value: "z" }];
    const body = { producerId: "h5", sequence: 0, partition: 2, records };
    const first = await post(topic, body);
    expect(first.status).toBe(200);
    expect(first.body.offsets).toEqual([0, 1, 2].map((offset) => ({ partition: 2, offset })));
    expect((await post(topic, body)).body.offsets).toEqual(first.body.offsets);
    // The next sequence over WebSocket would be 1: a batch per partition keeps them strict.
    const next = await post(topic, { ...body, sequence: 1, records: [{ value: "w" }] });
    expect(next.body.offsets).toEqual([{ partition: 2, offset: 3 }]);
    const info = await http("GET", `/v1/topics/${topic}`);
    expect(info.body.partitions.map((p: { highWatermark: number }) => p.highWatermark)).toEqual([
      0, 0, 4, 0,
    ]);
  });

  it("accepts the same JSON sent as text/plain, as navigator.sendBeacon sends it", async () => {
    const topic = uniqueTopic("http-beacon");
    const body = { producerId: "h3", sequence: 0, records: [{ value: "beacon" }] };
    const plain = { "content-type": "text/plain;charset=UTF-8" };
    const first = await post(topic, JSON.stringify(body), plain);
    expect(first.status).toBe(200);
    expect(first.body.offsets).toEqual([{ partition: 0, offset: 0 }]);
    const retry = await post(topic, body);
    expect(retry.body.offsets).toEqual(first.body.offsets);
    const next = await post(topic, JSON.stringify({ ...body, sequence: 1 }), plain);
    expect(next.body.offsets).toEqual([{ partition: 0, offset: 1 }]);
    expect((await partitionInfo(topic)).highWatermark).toBe(2);
  });

  it("lets HTTP sequences skip numbers but fences an older epoch with 409 PRODUCER_FENCED", async () => {
    const topic = uniqueTopic("http-fence");
    const records = [{ value: 0 }];
    expect(
      (await post(topic, { producerId: "h4", producerEpoch: 3, sequence: 0, records })).status,
    ).toBe(200);
    // One request's records may span partitions, so each partition sees only some sequences.
    expect(
      (await post(topic, { producerId: "h4", producerEpoch: 3, sequence: 7, records })).status,
    ).toBe(200);
    const fenced = await post(topic, { producerId: "h4", producerEpoch: 2, sequence: 8, records });
    expectHttpError(fenced, "PRODUCER_FENCED");
    expect(fenced.body.error.detail).toBe(3);
    expect((await partitionInfo(topic)).highWatermark).toBe(2);
  });
});
