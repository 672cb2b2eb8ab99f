/**
 * Credit flow control (docs/PROTOCOL.md §5.3): the server sends a subscriber RECORDS only while
 * it has credit (bytes). Out of credit, it is simply not sent to, while other subscribers keep
 * receiving; after CREDIT it catches up from storage with nothing lost.
 */
import { FrameType, RECORDS_HEADER_BYTES, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { makeRecords, openSocket, uniqueTopic, view } from "./helpers.ts";

describe("flow control", () => {
  it("stops sending to a subscriber out of credit while others keep receiving", async () => {
    const topic = uniqueTopic("slow");
    const producer = await openSocket(topic);
    const slow = await openSocket(topic);
    const fast = await openSocket(topic);
    await slow.subscribed({ from: StartFrom.Latest, credit: 1 });
    await fast.subscribed({ from: StartFrom.Latest });

    await producer.produceAck(makeRecords(2, { prefix: "first" }));
    // One byte of credit still lets one frame through; it leaves the credit below zero.
    expect((await slow.recordsUntil(2)).records.map(view).map((r) => r.offset)).toEqual([0, 1]);
    expect((await fast.recordsUntil(2)).records).toHaveLength(2);

    await producer.produceEach([1, 2, 3, 4].map((b) => makeRecords(2, { prefix: `more${b}` })));
    expect((await fast.recordsUntil(10)).records.map((r) => r.offset)).toEqual([
      2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(await slow.framesWithin(200)).toEqual([]);

    slow.credit(1_000_000);
    const caughtUp = await slow.recordsUntil(10);
    expect(caughtUp.records.map((r) => r.offset)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(caughtUp.records.map(view).map((r) => JSON.parse(r.value))).toEqual(
      [1, 2, 3, 4].flatMap((b) => [`more${b}-0`, `more${b}-1`]),
    );

    // Caught up, it is live again.
    await producer.produceAck(makeRecords(1, { prefix: "live" }));
    expect((await slow.recordsUntil(11)).records.map((r) => r.offset)).toEqual([10]);
    for (const s of [producer, slow, fast]) s.close();
  });

  it("sends nothing to a subscriber that starts with no credit until it grants some", async () => {
    const topic = uniqueTopic("zero");
    const producer = await openSocket(topic);
    await producer.produceEach([0, 1, 2].map((b) => makeRecords(3, { prefix: `b${b}` })));
    const sub = await openSocket(topic);
    expect(await sub.subscribed({ from: StartFrom.Earliest, credit: 0 })).toMatchObject({
      startOffset: 0,
      highWatermark: 9,
    });
    expect(await sub.framesWithin(150)).toEqual([]);
    await producer.produceAck(makeRecords(1, { prefix: "while-waiting" }));
    expect(await sub.framesWithin(150)).toEqual([]);

    // A small grant buys one page: the first stored chunk, then nothing more.
    sub.credit(1);
    const page = await sub.next(FrameType.Records);
    expect(page.nextOffset).toBe(3);
    expect(await sub.framesWithin(150)).toEqual([]);

    sub.credit(1_000_000);
    const { records } = await sub.recordsUntil(10);
    expect(records.map((r) => r.offset)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    producer.close();
    sub.close();
  });

  it("charges a frame's full size, header included, against the credit", async () => {
    const topic = uniqueTopic("charge");
    const producer = await openSocket(topic);
    await producer.produceEach([0, 1].map((b) => makeRecords(2, { prefix: `b${b}` })));
    const sub = await openSocket(topic);
    await sub.subscribed({ from: StartFrom.Earliest, credit: 0 });
    sub.credit(1);
    const first = await sub.next(FrameType.Records);
    // The credit is now 1 - frame size; granting exactly that much leaves it at zero.
    sub.credit(RECORDS_HEADER_BYTES + first.batches.length - 1);
    expect(await sub.framesWithin(150)).toEqual([]);
    sub.credit(1);
    expect((await sub.next(FrameType.Records)).nextOffset).toBe(4);
    producer.close();
    sub.close();
  });
});
