/**
 * What a group commit costs in billed SQLite rows (docs/PROTOCOL.md §2, §11.1; rows written are
 * billed per row, index entries included): one row per stored chunk, plus one per
 * idempotent producer in the commit. The meta row is derived from the chunks after a restart,
 * so it is not rewritten by every commit.
 */
import { abortAllDurableObjects } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTopic, http, partitionInfo, uniqueTopic } from "./helpers.ts";

async function produce(topic: string, body: Record<string, unknown>): Promise<void> {
  const res = await http("POST", `/v1/topics/${topic}/records`, body);
  if (res.status !== 200) throw new Error(`produce: ${res.status} ${JSON.stringify(res.body)}`);
}

/** The usage counters of GET /v1/topics/{t} (§11.1). */
async function usage(topic: string) {
  return (await partitionInfo(topic)) as unknown as { rowsWritten: number; commits: number };
}

async function rowsFor(topic: string, body: Record<string, unknown>) {
  const before = await usage(topic);
  await produce(topic, body);
  const after = await usage(topic);
  return { rows: after.rowsWritten - before.rowsWritten, commits: after.commits - before.commits };
}

describe("rows written per group commit", () => {
  it("writes one row for a commit of plain batches", async () => {
    const topic = uniqueTopic("rows");
    await createTopic(topic);
    await produce(topic, { records: [{ value: 0 }] });
    expect(await rowsFor(topic, { records: [{ value: 1 }, { value: 2 }] })).toEqual({
      rows: 1,
      commits: 1,
    });
  });

  it("writes one row for a commit of an idempotent producer: its state rides in the chunk row", async () => {
    const topic = uniqueTopic("rows-idem");
    await createTopic(topic);
    await produce(topic, { records: [{ value: 0 }], producerId: "p", sequence: 0 });
    const records = [{ value: 1 }, { value: 2 }];
    expect(await rowsFor(topic, { records, producerId: "p", sequence: 1 })).toEqual({
      rows: 1,
      commits: 1,
    });
  });

  it("checkpoints producer states every 32 commits: one row per producer and the meta row", async () => {
    const topic = uniqueTopic("rows-ckpt");
    await createTopic(topic);
    const before = await usage(topic);
    for (let s = 0; s < 32; s++) {
      await produce(topic, { records: [{ value: s }], producerId: "a", sequence: s });
    }
    const after = await usage(topic);
    expect(after.commits - before.commits).toBe(32);
    // 32 chunk rows, then the checkpoint: producer "a" (1) and the meta row, whose update the
    // runtime counts as 2 rows written (measured; an UPDATE and an upsert alike). Writing the
    // producer with every commit instead would be 63 or more.
    expect(after.rowsWritten - before.rowsWritten).toBe(35);
  });
});

describe("producer states after a restart", () => {
  it("answers a retry of a batch whose producer state was only in its chunk row", async () => {
    const topic = uniqueTopic("ckpt-restart");
    await createTopic(topic);
    const offsets = [];
    for (let s = 0; s < 3; s++) {
      const res = await http("POST", `/v1/topics/${topic}/records`, {
        records: [{ value: s }],
        producerId: "q",
        sequence: s,
      });
      offsets.push(res.body.offsets[0].offset);
    }
    await abortAllDurableObjects();
    const retry = await http("POST", `/v1/topics/${topic}/records`, {
      records: [{ value: 2 }],
      producerId: "q",
      sequence: 2,
    });
    expect(retry.body.offsets).toEqual([{ partition: 0, offset: offsets[2] }]);
    expect((await partitionInfo(topic)).highWatermark).toBe(3);
  });

  it("keeps answering retries across a checkpoint and a restart", async () => {
    const topic = uniqueTopic("ckpt-restart-2");
    await createTopic(topic);
    for (let s = 0; s < 40; s++) {
      await produce(topic, { records: [{ value: s }], producerId: "r", sequence: s });
    }
    await abortAllDurableObjects();
    const retry = await http("POST", `/v1/topics/${topic}/records`, {
      records: [{ value: 39 }],
      producerId: "r",
      sequence: 39,
    });
    expect(retry.body.offsets).toEqual([{ partition: 0, offset: 39 }]);
    const next = await http("POST", `/v1/topics/${topic}/records`, {
      records: [{ value: 40 }],
      producerId: "r",
      sequence: 40,
    });
    expect(next.body.offsets).toEqual([{ partition: 0, offset: 40 }]);
    expect((await partitionInfo(topic)).highWatermark).toBe(41);
  });
});
