/**
 * PartitionLog over a host whose commits become durable later (Host.durable, as the Node host
 * syncs its write-ahead logs after each commit round): nothing is acknowledged or fanned out
 * before the host releases the commit, and a commit the host cannot make durable is
 * acknowledged to nobody.
 */
import { encodeBatch, KaitenError, ValueFormat } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { MemoryLogStorage } from "../src/core/memory-log-storage.ts";
import { type AppendResult, PartitionLog } from "../src/core/partition-log.ts";
import type { Host, TopicConfig } from "../src/core/types.ts";

const CONFIG: TopicConfig = {
  partitions: 1,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: 1_000,
};
const utf8 = new TextEncoder();
const batch = (n: number) =>
  encodeBatch(
    Array.from({ length: n }, (_, i) => ({
      key: null,
      value: utf8.encode(`v${i}`),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp: 1_000 + i,
    })),
  );

/** A host that runs deferred work on demand and holds each commit until told. */
function heldHost() {
  const deferred: Array<() => void> = [];
  const held: Array<(error?: Error) => void> = [];
  const host: Host = {
    now: () => 5_000,
    randomEpoch: () => 7,
    defer: (fn) => deferred.push(fn),
    log: () => {},
    durable: (release) => held.push(release),
  };
  return {
    host,
    held,
    runDeferred: () => {
      for (const fn of deferred.splice(0)) fn();
    },
  };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("a partition log on a host that makes commits durable later", () => {
  it("acknowledges and fans out a commit only when the host releases it", async () => {
    const h = heldHost();
    const fannedOut: number[] = [];
    const log = new PartitionLog(new MemoryLogStorage(), h.host, CONFIG, (chunks) =>
      fannedOut.push(...chunks.map((c) => c.recordCount)),
    );
    const acks: AppendResult[] = [];
    const append = (sequence: number) =>
      log
        .append({
          batch: batch(2),
          producerId: "p",
          producerEpoch: 1,
          sequence,
          sequencing: "strict",
        })
        .then((r) => acks.push(r));
    const first = append(0);
    h.runDeferred();
    expect(h.held).toHaveLength(1);
    await settle();
    expect(acks).toEqual([]);
    expect(fannedOut).toEqual([]);
    // A retry of the same batch while it waits is a duplicate of it, answered with it.
    const retry = log.append({
      batch: batch(2),
      producerId: "p",
      producerEpoch: 1,
      sequence: 0,
      sequencing: "strict",
    });
    h.held.shift()?.();
    await first;
    expect(acks).toEqual([{ baseOffset: 0, count: 2, epoch: 7, duplicate: false }]);
    expect(await retry).toEqual({ baseOffset: 0, count: 2, epoch: 7, duplicate: true });
    expect(fannedOut).toEqual([2]);
    // The next commit waits for its own release.
    const second = append(1);
    h.runDeferred();
    await settle();
    expect(acks).toHaveLength(1);
    h.held.shift()?.();
    await second;
    expect(acks[1]).toEqual({ baseOffset: 2, count: 2, epoch: 7, duplicate: false });
  });

  it("acknowledges nothing of a commit the host cannot make durable", async () => {
    const h = heldHost();
    const fannedOut: number[] = [];
    const log = new PartitionLog(new MemoryLogStorage(), h.host, CONFIG, (chunks) =>
      fannedOut.push(chunks.length),
    );
    const appended = log.append({
      batch: batch(3),
      producerId: "",
      producerEpoch: 0,
      sequence: 0,
      sequencing: "strict",
    });
    h.runDeferred();
    h.held.shift()?.(new Error("EIO (injected)"));
    const error = await appended.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KaitenError);
    expect(error).toMatchObject({ code: "INTERNAL" });
    expect(fannedOut).toEqual([]);
    expect(log.idle).toBe(true);
  });

  it("is idle (a host may close it) only when no batch waits for its commit or its release", async () => {
    const h = heldHost();
    const log = new PartitionLog(new MemoryLogStorage(), h.host, CONFIG, () => {});
    expect(log.idle).toBe(true);
    // Without a producer id the batch is in no retry map: only the commit's release counts it.
    const appended = log.append({
      batch: batch(1),
      producerId: "",
      producerEpoch: 0,
      sequence: 0,
      sequencing: "strict",
    });
    expect(log.idle).toBe(false);
    h.runDeferred();
    expect(h.held).toHaveLength(1);
    expect(log.idle).toBe(false);
    h.held.shift()?.();
    await appended;
    expect(log.idle).toBe(true);
  });
});
