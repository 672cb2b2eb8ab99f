/**
 * The core's PartitionService (PartitionPort) in plain Node over better-sqlite3: append and
 * read (PROTOCOL.md §17), HTTP waiters woken by a commit, the identity row kept across a
 * restart, the partition's `__metrics` publication (§14), and containment: an unexpected
 * error is answered as data and logged naming the topic and partition.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { PartitionService } from "../src/core/partition-service.ts";
import type { TopicConfig } from "../src/core/types.ts";
import { type NodeSql, openSqlite } from "../src/node/sqlite.ts";
import { logSink, ManualTimers, settle } from "./fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "kaiten-partition-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config: TopicConfig = {
  partitions: 1,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: 1_000_000,
};
const ref = { topic: "t", partition: 0, config };
const utf8 = new TextEncoder();
const batch = (n: number) =>
  encodeBatch(
    Array.from({ length: n }, (_, i) => ({
      key: null,
      value: utf8.encode(`r${i}`),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp: 1,
    })),
  );
const append = (n: number) => ({
  ...ref,
  batch: batch(n),
  producerId: "",
  producerEpoch: 0,
  sequence: 0,
});

function harness(sql: NodeSql = openSqlite(":memory:")) {
  const timers = new ManualTimers();
  const sink = logSink();
  const appended: string[] = [];
  const service = new PartitionService({
    sql,
    now: () => 1_000,
    randomEpoch: () => 42,
    defer: (fn) => void setImmediate(fn),
    timers,
    log: sink.log,
    defaults: config,
    sockets: () => [],
    alarm: { set: () => {} },
    metrics: async (key) => void appended.push(key),
  });
  return { service, timers, sink, appended, sql };
}

describe("partition service", () => {
  it("appends batches at contiguous offsets and reads them back", async () => {
    const { service } = harness();
    expect(await service.append(append(2))).toEqual({
      ok: true,
      value: { baseOffset: 0, count: 2, epoch: 42, duplicate: false },
    });
    expect(await service.append(append(1))).toMatchObject({ ok: true, value: { baseOffset: 2 } });
    const read = await service.read({ ...ref, offset: 0, maxBytes: 1_000_000 });
    expect(read).toMatchObject({ ok: true, value: { startOffset: 0, highWatermark: 3 } });
    expect(await service.info(ref)).toMatchObject({
      ok: true,
      value: { epoch: 42, earliestOffset: 0, highWatermark: 3, subscribers: 0 },
    });
  });

  it("wakes a waiting reader on the next commit, and times one out by the injected timer", async () => {
    const { service, timers } = harness();
    const grew = service.waitForCommit({ ...ref, after: 0, ms: 5_000 });
    await service.append(append(1));
    expect(await grew).toEqual({ ok: true, value: { outcome: "grew" } });
    const waiting = service.waitForCommit({ ...ref, after: 1, ms: 5_000 });
    timers.fire();
    expect(await waiting).toEqual({ ok: true, value: { outcome: "timeout" } });
  });

  it("remembers which partition it is across a restart", async () => {
    const path = join(dir, "identity.sqlite");
    const first = harness(openSqlite(path));
    expect(first.service.identity).toBeNull();
    await first.service.info({ ...ref, topic: "orders", partition: 3 });
    first.sql.close();
    expect(harness(openSqlite(path)).service.identity).toEqual({ topic: "orders", partition: 3 });
  });

  it("publishes its counters to __metrics a second after activity, keyed by topic/partition", async () => {
    const { service, timers, appended } = harness();
    await service.append(append(1));
    timers.fire();
    await settle();
    expect(appended).toEqual(["t/0"]);
  });

  it("is idle only with nothing in flight, no waiting reader and no metrics due; closed, it publishes nothing more", async () => {
    const { service, timers, appended } = harness();
    expect(service.idle()).toBe(true);
    const appendedOne = service.append(append(1));
    expect(service.idle()).toBe(false);
    await appendedOne;
    // The commit's counters wait for the metrics timer.
    expect(service.idle()).toBe(false);
    service.closed();
    timers.fire();
    await settle();
    expect(appended).toEqual([]);
    expect(service.idle()).toBe(true);
    const waiting = service.waitForCommit({ ...ref, after: 1, ms: 5_000 });
    expect(service.idle()).toBe(false);
    service.wakeReaders();
    await waiting;
    expect(service.idle()).toBe(true);
  });

  it("wakes every waiter and empties the log when destroyed", async () => {
    const { service } = harness();
    await service.append(append(1));
    const waiting = service.waitForCommit({ ...ref, after: 1, ms: 5_000 });
    await service.destroy();
    expect(await waiting).toEqual({ ok: true, value: { outcome: "closed" } });
    expect(await service.info(ref)).toMatchObject({ ok: true, value: { highWatermark: 0 } });
  });

  it("wakes every waiting reader at once when its host stops, as if the wait ran out, and keeps the log", async () => {
    const { service } = harness();
    await service.append(append(1));
    const waiting = service.waitForCommit({ ...ref, after: 1, ms: 5_000 });
    service.wakeReaders();
    expect(await waiting).toEqual({ ok: true, value: { outcome: "timeout" } });
    expect(await service.info(ref)).toMatchObject({ ok: true, value: { highWatermark: 1 } });
  });

  it("answers an unexpected failure as data and logs it naming the topic and partition", async () => {
    const { service, sink, sql } = harness();
    await service.info(ref);
    sql.close();
    const r = await service.append(append(1));
    expect(r.ok).toBe(false);
    await settle();
    expect(sink.lines.map((l) => l.line)).toContain("[kaiten:partition] t/0: rpc failed");
  });
});
