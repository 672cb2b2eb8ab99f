/**
 * Subscribers across a restart (docs/PROTOCOL.md §1 positions, §5.2, §5.4, §9): a restart closes every socket; a
 * subscriber that resumes from { offset it expected next, epoch } gets exactly the records it
 * has not seen, with no gap and no duplicate, then live records.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { FrameType, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { makeRecords, openSocket, type RecordView, uniqueTopic, view } from "./helpers.ts";

describe("a subscriber resuming after a restart", () => {
  it("gets exactly the records it missed, then live records, with no gap and no duplicate", async () => {
    const topic = uniqueTopic("resume");
    const producer = await openSocket(topic);
    const sub = await openSocket(topic);
    const { epoch } = await sub.subscribed({ from: StartFrom.Earliest });
    await producer.produceEach([0, 1, 2].map((b) => makeRecords(3, { prefix: `before${b}` })));
    const seen: RecordView[] = (await sub.recordsUntil(9)).records.map(view);
    const resumeAt = 9;

    await abortAllDurableObjects();
    expect((await sub.closed).code).toBe(1006);
    expect((await producer.closed).code).toBe(1006);

    // Records produced while the subscriber is away.
    const producer2 = await openSocket(topic);
    await producer2.produceEach([0, 1].map((b) => makeRecords(3, { prefix: `away${b}` })));

    const resumed = await openSocket(topic);
    expect(
      await resumed.subscribed({ from: StartFrom.Offset, position: resumeAt, epoch }),
    ).toMatchObject({ epoch, startOffset: resumeAt, highWatermark: 15 });
    seen.push(...(await resumed.recordsUntil(15)).records.map(view));
    await producer2.produceAck(makeRecords(3, { prefix: "after" }));
    seen.push(...(await resumed.recordsUntil(18)).records.map(view));

    expect(seen.map((r) => r.offset)).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(seen.map((r) => JSON.parse(r.value))).toEqual([
      ...[0, 1, 2].flatMap((b) => [0, 1, 2].map((i) => `before${b}-${i}`)),
      ...[0, 1].flatMap((b) => [0, 1, 2].map((i) => `away${b}-${i}`)),
      ...[0, 1, 2].map((i) => `after-${i}`),
    ]);
    expect(await resumed.framesWithin(100)).toEqual([]);
    producer2.close();
    resumed.close();
  });

  it("resumes in the middle of a stored chunk, from the exact offset asked for", async () => {
    const topic = uniqueTopic("mid");
    const producer = await openSocket(topic);
    const ack = await producer.produceAck(makeRecords(6, { prefix: "c" }));
    await abortAllDurableObjects();
    const sub = await openSocket(topic);
    const subscribed = await sub.subscribed({
      from: StartFrom.Offset,
      position: 4,
      epoch: ack.epoch,
    });
    expect(subscribed.type).toBe(FrameType.Subscribed);
    const { records } = await sub.recordsUntil(6);
    expect(records.map(view).map((r) => r.offset)).toEqual([4, 5]);
    sub.close();
  });
});
