/**
 * Data survives a restart (docs/PROTOCOL.md §1, §2, §5.2): after abortAllDurableObjects() drops
 * every instance, a fresh one reads the same log from SQLite with the same epoch, and new
 * records continue the numbering.
 */

import { abortAllDurableObjects } from "cloudflare:test";
import { StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  expected,
  http,
  makeRecords,
  openSocket,
  partitionInfo,
  readAllHttp,
  uniqueTopic,
  view,
} from "./helpers.ts";

async function fill(topic: string) {
  const producer = await openSocket(topic);
  const batches = [0, 1, 2, 3].map((b) => makeRecords(4, { prefix: `b${b}`, key: `k${b}` }));
  const acks = await producer.produceEach(batches);
  producer.close();
  return { epoch: acks[0]?.epoch, sent: batches.flatMap((b, i) => expected(b, i * 4)) };
}

describe("a restart", () => {
  it("keeps every record, readable over HTTP and by a subscriber", async () => {
    const topic = uniqueTopic("keep");
    const { sent } = await fill(topic);
    await abortAllDurableObjects();
    const { records } = await readAllHttp(topic);
    expect(records).toEqual(sent.map((r) => ({ ...r, value: JSON.parse(r.value) })));
    const sub = await openSocket(topic);
    await sub.subscribed({ from: StartFrom.Earliest });
    expect((await sub.recordsUntil(sent.length)).records.map(view)).toEqual(sent);
    sub.close();
  });

  it("keeps the log's epoch and offsets", async () => {
    const topic = uniqueTopic("epoch");
    const { epoch } = await fill(topic);
    const before = await partitionInfo(topic);
    expect(before.epoch).toBe(epoch);
    await abortAllDurableObjects();
    // commits and rowsWritten count since the object started (PROTOCOL.md §11.1).
    expect(await partitionInfo(topic)).toEqual({ ...before, commits: 0, rowsWritten: 0 });
  });

  it("continues numbering where the log ended, reusing no offset", async () => {
    const topic = uniqueTopic("continue");
    const { epoch } = await fill(topic);
    await abortAllDurableObjects();
    const producer = await openSocket(topic);
    expect(await producer.produceAck(makeRecords(2))).toMatchObject({ baseOffset: 16, epoch });
    const posted = await http("POST", `/v1/topics/${topic}/records`, { records: [{ value: 1 }] });
    expect(posted.body.offsets).toEqual([{ partition: 0, offset: 18 }]);
    producer.close();
  });
});
