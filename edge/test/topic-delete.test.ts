/**
 * Deleting a topic (docs/PROTOCOL.md §1, §5.2, §9, §11.1, §12): every partition log is deleted, its
 * sockets get ERROR TOPIC_DELETED and close with 4022, and a topic created later with the same
 * name has new epochs, so positions of the old one are refused with EPOCH_MISMATCH.
 */

import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { FrameType, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  createTopic,
  expectHttpError,
  http,
  isType,
  makeRecords,
  openSocket,
  partitionInfo,
  partitionStub,
  recordsPath,
  uniqueTopic,
} from "./helpers.ts";

async function epochs(topic: string): Promise<number[]> {
  const res = await http("GET", `/v1/topics/${topic}`);
  return res.body.partitions.map((p: { epoch: number }) => p.epoch);
}

/** A two-partition topic with records, a subscriber and a producer on partition 0, a subscriber on 1. */
async function liveTopic() {
  const topic = uniqueTopic("doomed");
  await createTopic(topic, { partitions: 2 });
  const producer = await openSocket(topic, 0);
  const sub0 = await openSocket(topic, 0);
  const sub1 = await openSocket(topic, 1);
  await sub0.subscribed({ from: StartFrom.Earliest });
  await sub1.subscribed({ from: StartFrom.Earliest });
  await producer.produceEach([makeRecords(3), makeRecords(2)]);
  await sub0.recordsUntil(5);
  return { topic, sockets: [producer, sub0, sub1], before: await epochs(topic) };
}

describe("deleting a topic", () => {
  it("closes every socket of every partition with code 4022", async () => {
    const { topic, sockets } = await liveTopic();
    const res = await http("DELETE", `/v1/topics/${topic}`);
    expect(res).toMatchObject({ status: 200, body: { deleted: topic } });
    for (const s of sockets) expect(await s.closed).toMatchObject({ code: 4022 });
  });

  it("sends each socket an ERROR TOPIC_DELETED before the close (§9)", async () => {
    const { topic, sockets } = await liveTopic();
    await http("DELETE", `/v1/topics/${topic}`);
    for (const s of sockets) {
      await s.closed;
      const errors = s.queued.filter(isType(FrameType.Error));
      expect(errors.map((e) => e.code)).toEqual(["TOPIC_DELETED"]);
    }
  });

  it("forgets the topic: describing, reading or deleting it again gets 404 UNKNOWN_TOPIC", async () => {
    const { topic } = await liveTopic();
    await http("DELETE", `/v1/topics/${topic}`);
    expectHttpError(await http("GET", `/v1/topics/${topic}`), "UNKNOWN_TOPIC");
    expectHttpError(await http("GET", recordsPath(topic)), "UNKNOWN_TOPIC");
    expectHttpError(await http("DELETE", `/v1/topics/${topic}`), "UNKNOWN_TOPIC");
    const list = await http("GET", "/v1/topics");
    expect(list.body.topics.map((t: { name: string }) => t.name)).not.toContain(topic);
  });

  it("gives every partition of a topic created again a new epoch and an empty log", async () => {
    const { topic, before } = await liveTopic();
    await http("DELETE", `/v1/topics/${topic}`);
    await createTopic(topic, { partitions: 2 });
    const after = await epochs(topic);
    expect(after).toHaveLength(2);
    after.forEach((epoch, p) => {
      expect(epoch).not.toBe(before[p]);
      expect(epoch).toBeGreaterThan(0);
    });
    expect(await partitionInfo(topic, 0)).toMatchObject({ earliestOffset: 0, highWatermark: 0 });
    const read = await http("GET", recordsPath(topic));
    expect(read.body.records).toEqual([]);
  });

  it("refuses a resume with the old epoch with EPOCH_MISMATCH naming the new one (§5.2)", async () => {
    const { topic, before } = await liveTopic();
    await http("DELETE", `/v1/topics/${topic}`);
    await createTopic(topic, { partitions: 2 });
    const [current] = await epochs(topic);
    const sub = await openSocket(topic, 0);
    const resume = { from: StartFrom.Offset, position: 0, epoch: before[0] };
    expect(await sub.subscribe(resume)).toMatchObject({
      type: FrameType.Error,
      code: "EPOCH_MISMATCH",
      detail: current,
    });
    sub.close();
  });

  it("forgets the partition's idempotent producers with its log", async () => {
    const topic = uniqueTopic("producers");
    const producer = await openSocket(topic);
    const id = { producerId: "p", producerEpoch: 1 };
    await producer.produceAck(makeRecords(1), { ...id, sequence: 0 });
    await producer.produceAck(makeRecords(1), { ...id, sequence: 1 });
    await http("DELETE", `/v1/topics/${topic}`);
    const again = await openSocket(topic);
    expect(await again.produceAck(makeRecords(1), { ...id, sequence: 0 })).toMatchObject({
      baseOffset: 0,
      duplicate: false,
    });
    again.close();
  });

  it("applies a recreated topic's retention on an object restarted before any request (§12)", async () => {
    const topic = uniqueTopic("reborn");
    const config = { retentionMs: 60_000 };
    await createTopic(topic, config);
    const first = await openSocket(topic);
    await first.produceAck(makeRecords(1));
    await http("DELETE", `/v1/topics/${topic}`);
    await createTopic(topic, config);

    const producer = await openSocket(topic);
    await producer.produceAck(makeRecords(2, { timestamp: Date.now() - 3_600_000 }));
    // Hold the real alarm off; this test runs it on a freshly started object.
    await runInDurableObject(partitionStub(topic), (_, s) =>
      s.storage.setAlarm(Date.now() + 3_600_000),
    );
    await producer.produceAck(makeRecords(2));
    producer.close();
    await abortAllDurableObjects();
    // A stub from before the abort is broken; the alarm runs on a fresh instance.
    expect(await runDurableObjectAlarm(partitionStub(topic))).toBe(true);
    expect(await partitionInfo(topic)).toMatchObject({ earliestOffset: 2, highWatermark: 4 });
  });
});
