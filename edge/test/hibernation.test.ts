/**
 * Hibernation (docs/PROTOCOL.md §3.2, §5.2, §5.4): a partition object whose only connections are
 * hibernatable WebSockets and which has no pending timers is evicted from memory after about
 * 10 s idle (workerd's real idle eviction; `evictDurableObject` does not exist in
 * vitest-pool-workers 0.15.1). The sockets stay open and each subscription lives in its
 * socket's attachment, so the next commit reaches every subscriber at the right offset.
 */

import { runInDurableObject } from "cloudflare:test";
import { decodeChunk, FrameType, PING, PONG, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  http,
  makeRecords,
  openSocket,
  partitionInfo,
  partitionStub,
  sleep,
  uniqueTopic,
  view,
} from "./helpers.ts";

/** Longer than workerd's idle time before it evicts a hibernatable object (10 s). */
const IDLE_MS = 11_500;
/**
 * Activity (here the producer's close) schedules the partition's metrics publication a second
 * later (PROTOCOL.md §14); its timer and RPC keep the object awake meanwhile, so the idle
 * window is counted from after it.
 */
const METRICS_SETTLE_MS = 2_000;

type Marked = { marker?: string };

describe("hibernation", () => {
  it("delivers the next record at the right offset to subscribers of an evicted object", async () => {
    const topic = uniqueTopic("hibernate");
    const stub = partitionStub(topic);
    const [sub, keyed, producer] = await Promise.all([1, 2, 3].map(() => openSocket(topic)));
    if (!sub || !keyed || !producer) throw new Error("sockets did not open");
    const { epoch } = await sub.subscribed({ from: StartFrom.Earliest });
    await keyed.subscribed({ from: StartFrom.Earliest, key: "k1" });
    await producer.produceAck(makeRecords(2, { key: "k1" }));
    expect((await sub.recordsUntil(2)).records.map((r) => r.offset)).toEqual([0, 1]);
    expect((await keyed.recordsUntil(2)).records.map((r) => r.offset)).toEqual([0, 1]);
    producer.close();
    await sleep(METRICS_SETTLE_MS);

    // Something only the running instance knows: a fresh instance will not have it.
    await runInDurableObject(stub, (o) => {
      (o as unknown as Marked).marker = "before";
    });
    expect(await runInDurableObject(stub, (o) => (o as unknown as Marked).marker)).toBe("before");

    await sleep(IDLE_MS);
    // The runtime answers keep-alives itself, without the object.
    sub.sendRaw(PING);
    expect(await sub.nextText()).toBe(PONG);
    expect(await runInDurableObject(stub, (o) => (o as unknown as Marked).marker)).toBeUndefined();
    expect(sub.isClosed).toBe(false);
    expect(keyed.isClosed).toBe(false);

    const posted = await http("POST", `/v1/topics/${topic}/records`, {
      records: [
        { key: "k2", value: "two" },
        { key: "k1", value: "one" },
      ],
    });
    expect(posted.body.offsets).toEqual([
      { partition: 0, offset: 2 },
      { partition: 0, offset: 3 },
    ]);
    const live = await sub.next(FrameType.Records);
    expect(live).toMatchObject({ nextOffset: 4, highWatermark: 4 });
    expect(decodeChunk(live.batches).map((r) => r.offset)).toEqual([2, 3]);
    const { records } = await keyed.recordsUntil(4);
    // The key filter, kept in the attachment too, still applies.
    expect(records.map(view)).toEqual([{ offset: 3, key: "k1", value: '"one"' }]);
    expect(await partitionInfo(topic)).toMatchObject({ epoch, highWatermark: 4, subscribers: 2 });
    sub.close();
    keyed.close();
  });
});
