/**
 * A subscriber that stops reading, on the Node host (docs/PROTOCOL.md §5.3): with 64 MiB of
 * credit granted and its TCP socket paused, the broker pushes until uWebSockets.js's buffer
 * for it holds about SOCKET_BUFFER_BYTES, then serves it from the log when the buffer drains.
 * Its memory stays bounded while the log grows; it is not disconnected; when it reads again it
 * gets every record, in order, with no gap.
 */
import type { Socket } from "node:net";
import {
  decodeChunk,
  decodeFrame,
  encodeFrame,
  FrameType,
  Limits,
  StartFrom,
  SUBPROTOCOL,
} from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { useBroker } from "../lib/broker.ts";
import { Connection, type OutgoingBatch, pipeline, socketUrl, waitUntil } from "../lib/client.ts";
import { rssBytes } from "../lib/proc.ts";

const broker = useBroker({ host: "node" });
const MiB = 1_048_576;
const BATCH_BYTES = 200 * 1024;
const BATCHES = 320; // 64 MB of values
const value = new Uint8Array(BATCH_BYTES).fill(0x61);

function batch(b: number): OutgoingBatch {
  const key = new TextEncoder().encode(`k${b}`);
  return { records: [{ key, value, format: 0, headers: [], timestamp: Date.now() }] };
}

async function streamWithReader(topic: string): Promise<void> {
  const producer = await Connection.open(broker().url, topic, 0);
  const reader = await Connection.open(broker().url, topic, 0);
  const sub = await reader.subscribe({ from: StartFrom.Earliest, credit: 8 * MiB });
  const sent = await pipeline(
    producer,
    Array.from({ length: BATCHES }, (_, b) => batch(b)),
    8,
  );
  expect(sent.failure).toBeNull();
  await sub.waitForOffset(BATCHES);
  await Promise.all([producer.close(), reader.close()]);
}

describe("Node host: a subscriber that stops reading", () => {
  it("keeps the broker's memory bounded, is not disconnected, and then gets everything in order", async () => {
    // First the same volume with a reader that keeps up: the broker's heap grows to its
    // working size, so what grows afterwards is what the slow reader makes it hold.
    await streamWithReader("warm-up");
    const topic = "slow";
    const producer = await Connection.open(broker().url, topic, 0);
    await pipeline(producer, [batch(-1)], 1);
    const ws = new WebSocket(socketUrl(broker().url, topic, 0), SUBPROTOCOL);
    const offsets: number[] = [];
    let closed = false;
    ws.on("close", () => {
      closed = true;
    });
    ws.on("message", (data: Buffer) => {
      const frame = decodeFrame(new Uint8Array(data));
      if (frame.type !== FrameType.Records) return;
      for (const r of decodeChunk(frame.batches)) offsets.push(r.offset);
      ws.send(encodeFrame({ type: FrameType.Credit, credit: data.length }));
    });
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(
      encodeFrame({
        type: FrameType.Subscribe,
        requestId: 1,
        from: StartFrom.Earliest,
        position: 0,
        epoch: 0,
        credit: Limits.maxCreditBytes,
        key: null,
      }),
    );
    await waitUntil(
      () => offsets.length === 1,
      () => "the first record",
    );
    // Stop reading: the kernel buffers fill, then uWebSockets.js's buffer for this socket.
    const tcp = (ws as unknown as { _socket: Socket })._socket;
    tcp.pause();
    const pid = broker().processGroup;
    const before = rssBytes(pid);
    const sent = await pipeline(
      producer,
      Array.from({ length: BATCHES }, (_, b) => batch(b)),
      8,
    );
    expect(sent.failure).toBeNull();
    const grown = rssBytes(pid) - before;
    // 64 MB went into the log while 64 MiB of credit was granted: without backpressure it
    // would all wait in the socket's buffer. Bounded: the buffer, a few frames, SQLite's cache.
    expect(grown).toBeLessThan(32 * MiB);
    tcp.resume();
    await waitUntil(
      () => offsets.length === BATCHES + 1 || closed,
      () => `${offsets.length} of ${BATCHES + 1} records`,
    );
    expect(closed).toBe(false);
    expect(offsets).toEqual(offsets.map((_, i) => i));
    ws.close();
    await producer.close();
  });
});
