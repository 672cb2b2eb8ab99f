/**
 * Group commit (docs/PROTOCOL.md §2, §4, §5.1, §7): batches that arrive while a commit is pending are
 * written together, in one transaction and usually one row, yet each keeps its own offsets.
 *
 * Not checked here: that one socket's batches keep their send order (§5.1). In this test harness the
 * pool's Durable Object wrapper awaits an RPC to its runner object before every
 * webSocketMessage, so handlers start in an order unrelated to arrival; under plain workerd
 * they start in arrival order and `append` queues synchronously before any await.
 */

import { runInDurableObject } from "cloudflare:test";
import { decodeChunk, FrameType, Limits } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  chunkRows,
  expected,
  makeRecords,
  openSocket,
  partitionStub,
  type RecordView,
  readAllHttp,
  type TestSocket,
  uniqueTopic,
} from "./helpers.ts";

const SOCKETS = 4;
const BATCHES_PER_SOCKET = 25;
const PER_BATCH = 3;

async function sendBackToBack(topic: string) {
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => openSocket(topic)));
  // Every send happens before any answer is awaited.
  const sent = sockets.map((socket, s) =>
    Array.from({ length: BATCHES_PER_SOCKET }, (_, b) => {
      const records = makeRecords(PER_BATCH, { prefix: `s${s}b${b}` });
      return { socket, records, requestId: socket.produce(records) };
    }),
  );
  const acks = [];
  for (const batch of sent.flat()) {
    const ack = await batch.socket.reply(batch.requestId);
    if (ack.type !== FrameType.ProduceAck) throw new Error(`got ${JSON.stringify(ack)}`);
    acks.push({ ...batch, ack });
  }
  return { sockets, acks };
}

function closeAll(sockets: TestSocket[]) {
  for (const s of sockets) s.close();
}

describe("group commit", () => {
  it("stores batches sent back to back from several sockets in fewer rows than batches", async () => {
    const topic = uniqueTopic("rows");
    const { sockets } = await sendBackToBack(topic);
    const rows = await chunkRows(topic);
    expect(rows).toBeGreaterThan(0);
    expect(rows).toBeLessThan(SOCKETS * BATCHES_PER_SOCKET);
    closeAll(sockets);
  });

  it("gives every acknowledged batch its own contiguous offsets, none shared", async () => {
    const topic = uniqueTopic("offsets");
    const { sockets, acks } = await sendBackToBack(topic);
    const ranges = acks.map((a) => a.ack).sort((x, y) => x.baseOffset - y.baseOffset);
    let next = 0;
    for (const r of ranges) {
      expect(r).toMatchObject({ baseOffset: next, count: PER_BATCH, duplicate: false });
      next += r.count;
    }
    expect(next).toBe(SOCKETS * BATCHES_PER_SOCKET * PER_BATCH);
    expect(new Set(acks.map((a) => a.ack.epoch)).size).toBe(1);
    closeAll(sockets);
  });

  it("reads back exactly the records each ack placed, at the acknowledged offsets", async () => {
    const topic = uniqueTopic("readback");
    const { sockets, acks } = await sendBackToBack(topic);
    const want: RecordView[] = acks
      .flatMap((a) => expected(a.records, a.ack.baseOffset))
      .sort((x, y) => x.offset - y.offset);
    const { records } = await readAllHttp(topic);
    expect(records).toEqual(want.map((r) => ({ ...r, value: JSON.parse(r.value) })));
    closeAll(sockets);
  });

  it("never stores a chunk over Limits.maxChunkBytes when a commit is larger (§7)", async () => {
    const topic = uniqueTopic("big");
    const producer = await openSocket(topic);
    const big = makeRecords(1, { valueBytes: 600_000 });
    const ids = [0, 1, 2].map(() => producer.produce(big));
    for (const id of ids) expect((await producer.reply(id)).type).toBe(FrameType.ProduceAck);
    const sizes = await runInDurableObject(partitionStub(topic), (_, state) =>
      state.storage.sql
        .exec<{ n: number; data: ArrayBuffer }>("SELECT record_count AS n, data FROM chunks")
        .toArray(),
    );
    expect(sizes.length).toBeGreaterThan(1);
    for (const row of sizes) {
      expect(row.data.byteLength).toBeLessThanOrEqual(Limits.maxChunkBytes);
      expect(decodeChunk(new Uint8Array(row.data))).toHaveLength(row.n);
    }
    expect(sizes.reduce((n, r) => n + r.n, 0)).toBe(3);
    producer.close();
  });
});
