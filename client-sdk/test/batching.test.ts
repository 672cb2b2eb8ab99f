/** Batching, sequences and retries of the producer, under fake timers, over a fake socket. */
import { decodeChunk, FrameType, type ProduceFrame } from "@kaiten/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Link, type LinkUser } from "../src/link.ts";
import { Producer, type ProducerOptions } from "../src/producer.ts";
import { jsonSerde } from "../src/serde.ts";
import { FakeSocket } from "./support/fake-socket.ts";

let requestId = 0;
function setup(o: Partial<ProducerOptions> = {}, partitionCount = 1) {
  const links: Link[] = [];
  const producer = new Producer(
    {
      serde: jsonSerde,
      topicInfo: async () => ({ partitionCount, maxRecordBytes: 1_000_000 }),
      link: (_topic, partition, user: LinkUser) => {
        const link = new Link(
          `ws://broker/${partition}`,
          {
            WebSocket: FakeSocket,
            pingIntervalMs: 1e9,
            pongTimeoutMs: 1e9,
            minDelayMs: 100,
            maxDelayMs: 1_000,
            random: () => 0.5,
          },
          () => {},
        );
        user.link = link;
        link.users.add(user);
        link.connect();
        FakeSocket.last.open();
        links.push(link);
        return link;
      },
      release: () => {},
      nextRequestId: () => ++requestId,
      backoff: () => 100,
    },
    { lingerMs: 5, batchBytes: 1_000, maxQueued: 10_000, producerId: "p1", ...o },
  );
  return { producer, links };
}

/** The PRODUCE frames a socket carried. */
const produced = (ws: FakeSocket) =>
  ws.frames().filter((f): f is ProduceFrame => f.type === FrameType.Produce);
const ack = (ws: FakeSocket, f: ProduceFrame, baseOffset: number, duplicate = false) =>
  ws.receive({
    type: 0x81,
    requestId: f.requestId,
    baseOffset,
    count: decodeChunk(f.batch).length,
    epoch: 7,
    duplicate,
  });
const refuse = (
  ws: FakeSocket,
  f: ProduceFrame,
  code: "THROTTLED" | "RECORD_TOO_LARGE" | "SEQUENCE_GAP",
  retriable = false,
  detail = 0,
) => ws.receive({ type: 0x84, requestId: f.requestId, code, retriable, detail, message: code });
const flushMicrotasks = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe("batching", () => {
  it("holds records for lingerMs, then sends them as one batch", async () => {
    const { producer } = setup();
    producer.produce("t", [{ value: 1 }]);
    producer.produce("t", [{ value: 2 }, { value: 3 }]);
    await flushMicrotasks();
    const ws = FakeSocket.last;
    expect(produced(ws)).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(5);
    const [frame] = produced(ws);
    expect(produced(ws)).toHaveLength(1);
    expect(
      decodeChunk(frame?.batch as Uint8Array).map((r) => new TextDecoder().decode(r.value)),
    ).toEqual(["1", "2", "3"]);
  });

  it("sends at once when a batch reaches batchBytes", async () => {
    const { producer } = setup({ batchBytes: 300 });
    producer.produce(
      "t",
      Array.from({ length: 10 }, () => ({ value: "x".repeat(40) })),
    );
    await flushMicrotasks();
    expect(produced(FakeSocket.last)).toHaveLength(1);
    expect(decodeChunk(produced(FakeSocket.last)[0]?.batch as Uint8Array).length).toBeLessThan(10);
  });

  it("keeps one batch in flight; the next grows meanwhile and goes when the first is acknowledged", async () => {
    const { producer } = setup();
    const first = producer.produce("t", [{ value: "a" }]);
    await vi.advanceTimersByTimeAsync(5);
    const ws = FakeSocket.last;
    const later = [
      producer.produce("t", [{ value: "b" }]),
      producer.produce("t", [{ value: "c" }]),
    ];
    await vi.advanceTimersByTimeAsync(50);
    expect(produced(ws)).toHaveLength(1);
    ack(ws, produced(ws)[0] as ProduceFrame, 0);
    await expect(first).resolves.toEqual([{ partition: 0, offset: 0 }]);
    const second = produced(ws)[1] as ProduceFrame;
    expect(decodeChunk(second.batch)).toHaveLength(2);
    expect(second.sequence).toBe(1);
    ack(ws, second, 1);
    expect(await Promise.all(later)).toEqual([
      [{ partition: 0, offset: 1 }],
      [{ partition: 0, offset: 2 }],
    ]);
  });

  it("makes produce wait while maxQueued records are unacknowledged, without losing order", async () => {
    const { producer } = setup({ maxQueued: 3 });
    const order: number[] = [];
    const calls = [1, 2, 3, 4].map((n) =>
      producer.produce("t", [{ value: n }]).then(() => order.push(n)),
    );
    await vi.advanceTimersByTimeAsync(5);
    const ws = FakeSocket.last;
    const [first] = produced(ws);
    expect(decodeChunk(first?.batch as Uint8Array)).toHaveLength(3);
    ack(ws, first as ProduceFrame, 0);
    await vi.advanceTimersByTimeAsync(5);
    const second = produced(ws)[1] as ProduceFrame;
    expect(new TextDecoder().decode(decodeChunk(second.batch)[0]?.value)).toBe("4");
    ack(ws, second, 3);
    await Promise.all(calls);
    expect(order).toEqual([1, 2, 3, 4]);
  });
});

describe("idempotent retries", () => {
  it("sends an unacknowledged batch again on the next socket with the same producer, epoch and sequence", async () => {
    const { producer } = setup();
    const call = producer.produce("t", [{ value: 1 }]);
    await vi.advanceTimersByTimeAsync(5);
    const before = produced(FakeSocket.last)[0] as ProduceFrame;
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    FakeSocket.last.open();
    const again = produced(FakeSocket.last)[0] as ProduceFrame;
    expect([again.producerId, again.producerEpoch, again.sequence]).toEqual([
      "p1",
      0,
      before.sequence,
    ]);
    expect(again.batch).toEqual(before.batch);
    ack(FakeSocket.last, again, 41, true);
    await expect(call).resolves.toEqual([{ partition: 0, offset: 41 }]);
  });

  it("retries a THROTTLED batch after a backoff with the same sequence", async () => {
    const { producer } = setup();
    const call = producer.produce("t", [{ value: 1 }]);
    await vi.advanceTimersByTimeAsync(5);
    const ws = FakeSocket.last;
    refuse(ws, produced(ws)[0] as ProduceFrame, "THROTTLED", true);
    await vi.advanceTimersByTimeAsync(99);
    expect(produced(ws)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(produced(ws)[1]?.sequence).toBe(0);
    ack(ws, produced(ws)[1] as ProduceFrame, 0);
    await expect(call).resolves.toHaveLength(1);
  });

  it("rejects a refused batch's calls with the coded error, and the next batch takes its sequence", async () => {
    const { producer } = setup();
    const refused = producer.produce("t", [{ value: 1 }]);
    await vi.advanceTimersByTimeAsync(5);
    const next = producer.produce("t", [{ value: 2 }]);
    const ws = FakeSocket.last;
    refuse(ws, produced(ws)[0] as ProduceFrame, "RECORD_TOO_LARGE");
    await expect(refused).rejects.toMatchObject({ code: "RECORD_TOO_LARGE", retriable: false });
    await vi.advanceTimersByTimeAsync(5);
    expect(produced(ws)[1]?.sequence).toBe(0);
    ack(ws, produced(ws)[1] as ProduceFrame, 0);
    await expect(next).resolves.toHaveLength(1);
  });

  it("starts a new producer epoch at sequence 0 when the broker forgot the producer (SEQUENCE_GAP)", async () => {
    const { producer } = setup();
    const a = producer.produce("t", [{ value: 1 }]);
    await vi.advanceTimersByTimeAsync(5);
    const ws = FakeSocket.last;
    ack(ws, produced(ws)[0] as ProduceFrame, 0);
    await a;
    const b = producer.produce("t", [{ value: 2 }]);
    await vi.advanceTimersByTimeAsync(5);
    expect(produced(ws)[1]?.sequence).toBe(1);
    refuse(ws, produced(ws)[1] as ProduceFrame, "SEQUENCE_GAP");
    const retry = produced(ws)[2] as ProduceFrame;
    expect([retry.producerEpoch, retry.sequence]).toEqual([1, 0]);
    ack(ws, retry, 1);
    await expect(b).resolves.toEqual([{ partition: 0, offset: 1 }]);
  });

  it("rotates keyless records to the next partition each time a batch closes (sticky partitioner)", async () => {
    const { producer, links } = setup({}, 3);
    for (let i = 0; i < 3; i++) {
      producer.produce("t", [{ value: i }]);
      await vi.advanceTimersByTimeAsync(5);
    }
    const partitions = links.map((l) => Number(l.url.split("/").pop()));
    expect(new Set(partitions).size).toBe(3);
  });
});
