/**
 * Retention (docs/PROTOCOL.md §12, §5.2, §8, §11.3): whole chunks are trimmed from the start of the
 * log by age (the alarm) or by size (after a commit). The earliest offset moves forward, the
 * high watermark never moves back, and a reader below the earliest offset is told so with
 * OFFSET_OUT_OF_RANGE and the new earliest offset: nothing is skipped silently.
 */

import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { encodeBatch, FrameType, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  chunkRows,
  createTopic,
  expectHttpError,
  http,
  makeRecords,
  openSocket,
  partitionInfo,
  partitionStub,
  readAllHttp,
  recordsPath,
  uniqueTopic,
  view,
} from "./helpers.ts";

const HOUR = 3_600_000;

/**
 * A topic keeping a minute of records, holding four chunks: two an hour old, one mixing an
 * old and a new record, one new. Offsets: [0, 1] [2, 3] [4 old, 5 new] [6, 7].
 */
async function agedTopic() {
  const topic = uniqueTopic("aged");
  await createTopic(topic, { retentionMs: 60_000 });
  const now = Date.now();
  const old = now - HOUR;
  const producer = await openSocket(topic);
  await producer.produceAck(makeRecords(2, { prefix: "old-a", timestamp: old }));
  // That commit set the alarm for a second from now (the chunk was already due). Move it an
  // hour away at once, so that this test, not the clock, decides when retention runs.
  await runInDurableObject(partitionStub(topic), (_, state) =>
    state.storage.setAlarm(Date.now() + HOUR),
  );
  await producer.produceEach([
    makeRecords(2, { prefix: "old-b", timestamp: old }),
    [
      ...makeRecords(1, { prefix: "mixed-old", timestamp: old }),
      ...makeRecords(1, { prefix: "mixed-new", timestamp: now }),
    ],
    makeRecords(2, { prefix: "new", timestamp: now }),
  ]);
  producer.close();
  return topic;
}

describe("time retention", () => {
  it("trims whole chunks past the retention time when the alarm runs", async () => {
    const topic = await agedTopic();
    expect(await partitionInfo(topic)).toMatchObject({ earliestOffset: 0, highWatermark: 8 });
    expect(await runDurableObjectAlarm(partitionStub(topic))).toBe(true);
    // The mixed chunk holds a new record, so it stays whole: the log starts at 4, not 5.
    expect(await partitionInfo(topic)).toMatchObject({ earliestOffset: 4, highWatermark: 8 });
    expect(await chunkRows(topic)).toBe(2);
    const { records } = await readAllHttp(topic, 0, 4);
    expect(records.map((r) => r.offset)).toEqual([4, 5, 6, 7]);
    expect(records[0]?.value).toBe("mixed-old-0");
  });

  it("sets the next alarm for when the remaining oldest chunk expires", async () => {
    const topic = await agedTopic();
    await runDurableObjectAlarm(partitionStub(topic));
    const next = await runInDurableObject(partitionStub(topic), (_, s) => s.storage.getAlarm());
    expect(next).not.toBeNull();
    expect(next as number).toBeGreaterThan(Date.now() + 50_000);
  });

  it("answers an HTTP read below the earliest offset with 416 OFFSET_OUT_OF_RANGE (§11.3)", async () => {
    const topic = await agedTopic();
    await runDurableObjectAlarm(partitionStub(topic));
    const res = await http("GET", recordsPath(topic, 0, "offset=1"));
    expectHttpError(res, "OFFSET_OUT_OF_RANGE");
    expect(res.body.error.earliestOffset).toBe(4);
  });

  it("answers a SUBSCRIBE below the earliest offset with OFFSET_OUT_OF_RANGE (§5.2)", async () => {
    const topic = await agedTopic();
    await runDurableObjectAlarm(partitionStub(topic));
    const sub = await openSocket(topic);
    expect(
      await sub.subscribe({ from: StartFrom.Offset, position: 0, requestId: 9 }),
    ).toMatchObject({
      type: FrameType.Error,
      requestId: 9,
      code: "OFFSET_OUT_OF_RANGE",
      detail: 4,
    });
    const subscribed = await sub.subscribed({ from: StartFrom.Earliest });
    expect(subscribed).toMatchObject({ startOffset: 4, earliestOffset: 4, highWatermark: 8 });
    const { records } = await sub.recordsUntil(8);
    expect(records.map((r) => r.offset)).toEqual([4, 5, 6, 7]);
    sub.close();
  });

  it("tells a lagging subscriber whose next records were trimmed, instead of skipping them", async () => {
    const topic = await agedTopic();
    const sub = await openSocket(topic);
    const subscribed = await sub.subscribed({ from: StartFrom.Earliest, credit: 1 });
    const first = await sub.recordsUntil(2);
    expect(first.records.map(view).map((r) => r.offset)).toEqual([0, 1]);
    await runDurableObjectAlarm(partitionStub(topic));

    sub.credit(1_000_000);
    expect(await sub.next()).toMatchObject({
      type: FrameType.Error,
      requestId: subscribed.requestId,
      code: "OFFSET_OUT_OF_RANGE",
      detail: 4,
    });
    // The subscription ended with the error; the client decides where to resume.
    sub.credit(1);
    expect(await sub.next()).toMatchObject({ type: FrameType.Error, code: "NOT_SUBSCRIBED" });
    expect(await sub.subscribed({ from: StartFrom.Earliest })).toMatchObject({ startOffset: 4 });
    sub.close();
  });
});

describe("size retention", () => {
  it("trims the oldest whole chunks while a partition holds more than retentionBytes", async () => {
    const topic = uniqueTopic("sized");
    const batches = [0, 1, 2, 3, 4].map((b) => makeRecords(3, { prefix: `b${b}`, timestamp: 1 }));
    const chunkBytes = encodeBatch(batches[0] ?? []).length;
    await createTopic(topic, { retentionMs: -1, retentionBytes: Math.floor(chunkBytes * 2.5) });
    const producer = await openSocket(topic);
    const acks = await producer.produceEach(batches);
    expect(acks.map((a) => a.baseOffset)).toEqual([0, 3, 6, 9, 12]);
    expect(await partitionInfo(topic)).toMatchObject({ earliestOffset: 9, highWatermark: 15 });
    expect(await chunkRows(topic)).toBe(2);
    const { records } = await readAllHttp(topic, 0, 9);
    expect(records.map((r) => r.value)).toEqual(["b3-0", "b3-1", "b3-2", "b4-0", "b4-1", "b4-2"]);
    expectHttpError(await http("GET", recordsPath(topic, 0, "offset=8")), "OFFSET_OUT_OF_RANGE");
    producer.close();
  });

  it("keeps the newest chunk even when one chunk is over retentionBytes, as Kafka keeps its active segment", async () => {
    const topic = uniqueTopic("tiny");
    await createTopic(topic, { retentionMs: -1, retentionBytes: 1 });
    const producer = await openSocket(topic);
    await producer.produceEach([makeRecords(2, { prefix: "a" }), makeRecords(2, { prefix: "b" })]);
    expect(await partitionInfo(topic)).toMatchObject({ earliestOffset: 2, highWatermark: 4 });
    expect(await chunkRows(topic)).toBe(1);
    const { records } = await readAllHttp(topic, 0, 2);
    expect(records.map((r) => r.value)).toEqual(["b-0", "b-1"]);
    producer.close();
  });

  it("starts a read without offset or timestamp at the earliest retained offset (§11.3)", async () => {
    const topic = uniqueTopic("nooffset");
    await createTopic(topic, { retentionMs: -1, retentionBytes: 1 });
    const producer = await openSocket(topic);
    await producer.produceEach([makeRecords(2, { prefix: "a" }), makeRecords(2, { prefix: "b" })]);
    const res = await http("GET", recordsPath(topic, 0));
    expect(res.status).toBe(200);
    expect(res.body.records.map((r: { offset: number }) => r.offset)).toEqual([2, 3]);
    expect(res.body.earliestOffset).toBe(2);
    producer.close();
  });
});
