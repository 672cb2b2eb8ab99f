/**
 * What a group commit costs in billed SQLite rows (docs/PROTOCOL.md §2, §11.1; rows written are
 * billed per row, index entries included): one row per stored chunk, plus one per
 * idempotent producer in the commit. The meta row is derived from the chunks after a restart,
 * so it is not rewritten by every commit.
 */
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

  it("adds one row for each idempotent producer in the commit", async () => {
    const topic = uniqueTopic("rows-idem");
    await createTopic(topic);
    await produce(topic, { records: [{ value: 0 }], producerId: "p", sequence: 0 });
    const records = [{ value: 1 }, { value: 2 }];
    expect(await rowsFor(topic, { records, producerId: "p", sequence: 1 })).toEqual({
      rows: 2,
      commits: 1,
    });
  });
});
