/**
 * SUBSCRIBE options and the subscription lifecycle (docs/PROTOCOL.md §5.2, §5.4, §8): where a
 * subscription starts (earliest, latest, offset, timestamp), key filters, epochs, and the
 * errors for subscribing twice or granting credit without a subscription.
 */
import { FrameType, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { makeRecords, openSocket, uniqueTopic, view } from "./helpers.ts";

async function topicWith(batches: Parameters<typeof makeRecords>[]) {
  const topic = uniqueTopic("sub");
  const producer = await openSocket(topic);
  const acks = await producer.produceEach(batches.map((args) => makeRecords(...args)));
  return { topic, producer, epoch: acks[0]?.epoch ?? 0 };
}

describe("where a subscription starts", () => {
  it("from latest gets only records produced after it subscribed", async () => {
    const { topic, producer } = await topicWith([[3], [3]]);
    const sub = await openSocket(topic);
    expect(await sub.subscribed({ from: StartFrom.Latest })).toMatchObject({
      startOffset: 6,
      highWatermark: 6,
    });
    expect(await sub.framesWithin(100)).toEqual([]);
    await producer.produceAck(makeRecords(2, { prefix: "new" }));
    const { records } = await sub.recordsUntil(8);
    expect(records.map(view)).toEqual([
      { offset: 6, key: null, value: '"new-0"' },
      { offset: 7, key: null, value: '"new-1"' },
    ]);
    producer.close();
    sub.close();
  });

  it("from an offset inside a stored chunk starts at exactly that offset", async () => {
    const { topic, producer } = await topicWith([[4], [4]]);
    const sub = await openSocket(topic);
    expect(await sub.subscribed({ from: StartFrom.Offset, position: 2 })).toMatchObject({
      startOffset: 2,
    });
    expect((await sub.recordsUntil(8)).records.map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7]);
    producer.close();
    sub.close();
  });

  it("from the high watermark is allowed and waits for the next record", async () => {
    const { topic, producer } = await topicWith([[2]]);
    const sub = await openSocket(topic);
    expect(await sub.subscribed({ from: StartFrom.Offset, position: 2 })).toMatchObject({
      startOffset: 2,
    });
    await producer.produceAck(makeRecords(1));
    expect((await sub.recordsUntil(3)).records.map((r) => r.offset)).toEqual([2]);
    producer.close();
    sub.close();
  });

  it("from an offset beyond the high watermark gets OFFSET_OUT_OF_RANGE", async () => {
    const { topic, producer } = await topicWith([[2]]);
    const sub = await openSocket(topic);
    expect(await sub.subscribe({ from: StartFrom.Offset, position: 3 })).toMatchObject({
      type: FrameType.Error,
      code: "OFFSET_OUT_OF_RANGE",
      detail: 0,
    });
    producer.close();
    sub.close();
  });

  it("from a timestamp starts at the first record whose timestamp is at or after it", async () => {
    const { topic, producer } = await topicWith([
      [2, { prefix: "t1000", timestamp: 1_000 }],
      [2, { prefix: "t2000", timestamp: 2_000 }],
      [2, { prefix: "t3000", timestamp: 3_000 }],
    ]);
    const startFor = async (position: number) => {
      const sub = await openSocket(topic);
      const s = await sub.subscribed({ from: StartFrom.Timestamp, position });
      const first = s.startOffset < 6 ? (await sub.recordsUntil(6)).records[0] : undefined;
      sub.close();
      return { start: s.startOffset, first: first && view(first).offset };
    };
    expect(await startFor(0)).toEqual({ start: 0, first: 0 });
    expect(await startFor(2_000)).toEqual({ start: 2, first: 2 });
    expect(await startFor(2_001)).toEqual({ start: 4, first: 4 });
    expect(await startFor(9_999)).toEqual({ start: 6, first: undefined });
    producer.close();
  });

  it("from a timestamp inside a chunk starts at the first matching record, not the chunk", async () => {
    const topic = uniqueTopic("ts-mid");
    const producer = await openSocket(topic);
    const mixed = [1_000, 1_500, 2_500, 1_200].flatMap((timestamp) =>
      makeRecords(1, { prefix: `t${timestamp}`, timestamp }),
    );
    await producer.produceAck(mixed);
    const sub = await openSocket(topic);
    expect(await sub.subscribed({ from: StartFrom.Timestamp, position: 2_000 })).toMatchObject({
      startOffset: 2,
    });
    const { records } = await sub.recordsUntil(4);
    expect(records.map(view).map((r) => r.value)).toEqual(['"t2500-0"', '"t1200-0"']);
    producer.close();
    sub.close();
  });
});

describe("key filters", () => {
  it("delivers only the key's records while nextOffset still advances past the others", async () => {
    const { topic, producer } = await topicWith([
      [2, { key: "a", prefix: "a1" }],
      [2, { key: "b", prefix: "b1" }],
      [1, { key: "a", prefix: "a2" }],
    ]);
    const sub = await openSocket(topic);
    await sub.subscribed({ from: StartFrom.Earliest, key: "a" });
    const caughtUp = await sub.recordsUntil(5);
    expect(caughtUp.records.map(view)).toEqual([
      { offset: 0, key: "a", value: '"a1-0"' },
      { offset: 1, key: "a", value: '"a1-1"' },
      { offset: 4, key: "a", value: '"a2-0"' },
    ]);
    // Live: a commit with no record for the key still moves the subscriber on.
    await producer.produceAck(makeRecords(2, { key: "c" }));
    const skipped = await sub.next(FrameType.Records);
    expect(skipped.nextOffset).toBe(7);
    expect(skipped.highWatermark).toBe(7);
    await producer.produceAck(makeRecords(1, { key: "a", prefix: "a3" }));
    const { records } = await sub.recordsUntil(8);
    expect(records.map(view)).toEqual([{ offset: 7, key: "a", value: '"a3-0"' }]);
    producer.close();
    sub.close();
  });
});

describe("the subscription lifecycle", () => {
  it("refuses a SUBSCRIBE with another epoch with EPOCH_MISMATCH naming the real one", async () => {
    const { topic, producer, epoch } = await topicWith([[1]]);
    const sub = await openSocket(topic);
    const wrong = epoch === 1 ? 2 : epoch - 1;
    expect(
      await sub.subscribe({ from: StartFrom.Offset, position: 0, epoch: wrong }),
    ).toMatchObject({
      type: FrameType.Error,
      code: "EPOCH_MISMATCH",
      retriable: false,
      detail: epoch,
    });
    expect(await sub.subscribed({ from: StartFrom.Offset, position: 0, epoch })).toMatchObject({
      epoch,
    });
    producer.close();
    sub.close();
  });

  it("refuses a second SUBSCRIBE on the same socket with ALREADY_SUBSCRIBED and keeps the first", async () => {
    const { topic, producer } = await topicWith([[1]]);
    const sub = await openSocket(topic);
    await sub.subscribed({ from: StartFrom.Earliest });
    await sub.recordsUntil(1);
    expect(await sub.subscribe({ from: StartFrom.Earliest })).toMatchObject({
      type: FrameType.Error,
      code: "ALREADY_SUBSCRIBED",
    });
    await producer.produceAck(makeRecords(1));
    expect((await sub.recordsUntil(2)).records.map((r) => r.offset)).toEqual([1]);
    producer.close();
    sub.close();
  });

  it("answers CREDIT before any SUBSCRIBE with NOT_SUBSCRIBED", async () => {
    const sub = await openSocket(uniqueTopic("credit-first"));
    sub.credit(100);
    expect(await sub.next()).toMatchObject({
      type: FrameType.Error,
      requestId: 0,
      code: "NOT_SUBSCRIBED",
    });
    sub.close();
  });

  it("ends a subscription on UNSUBSCRIBE and lets the socket subscribe again", async () => {
    const { topic, producer } = await topicWith([[1]]);
    const sub = await openSocket(topic);
    await sub.subscribed({ from: StartFrom.Earliest });
    await sub.recordsUntil(1);
    const requestId = sub.newRequestId();
    sub.send({ type: FrameType.Unsubscribe, requestId });
    expect(await sub.next()).toEqual({ type: FrameType.Unsubscribed, requestId });
    await producer.produceAck(makeRecords(1));
    expect(await sub.framesWithin(150)).toEqual([]);

    const again = sub.newRequestId();
    sub.send({ type: FrameType.Unsubscribe, requestId: again });
    expect(await sub.next()).toMatchObject({
      type: FrameType.Error,
      requestId: again,
      code: "NOT_SUBSCRIBED",
    });
    expect(await sub.subscribed({ from: StartFrom.Offset, position: 1 })).toMatchObject({
      startOffset: 1,
    });
    expect((await sub.recordsUntil(2)).records.map((r) => r.offset)).toEqual([1]);
    producer.close();
    sub.close();
  });
});
