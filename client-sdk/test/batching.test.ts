/** Batching, sequences and retries of the producer, under fake timers, over a fake socket. */
import { decodeChunk, FrameType, type ProduceFrame } from "@kaiten/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_IN_FLIGHT } from "../src/batcher.ts";
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
            openTimeoutMs: 1e9,
            minDelayMs: 100,
            maxDelayMs: 1_000,
            random: () => 0.5,
            lost: () => {},
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
    const frames = produced(FakeSocket.last);
    expect(frames.length).toBeGreaterThan(0);
    expect(decodeChunk(frames[0]?.batch as Uint8Array).length).toBeLessThan(10);
  });

  it("sends a call of 16 KiB or more at once, without waiting lingerMs, while a slot is free", async () => {
    const { producer } = setup({ batchBytes: 262_144 });
    producer.produce(
      "t",
      Array.from({ length: 100 }, () => ({ value: "x".repeat(200) })),
    );
    producer.produce("t", [{ value: "small" }]);
    await flushMicrotasks();
    const frames = produced(FakeSocket.last);
    expect(frames.map((f) => decodeChunk(f.batch).length)).toEqual([100]);
    await vi.advanceTimersByTimeAsync(5);
    expect(produced(FakeSocket.last).map((f) => decodeChunk(f.batch).length)).toEqual([100, 1]);
  });

  it(`keeps up to ${MAX_IN_FLIGHT} batches in flight; the next grows meanwhile and goes when one is acknowledged`, async () => {
    const { producer } = setup();
    const first = producer.produce("t", [{ value: "a" }]);
    await vi.advanceTimersByTimeAsync(5);
    for (let i = 1; i < MAX_IN_FLIGHT; i++) {
      producer.produce("t", [{ value: i }]);
      await vi.advanceTimersByTimeAsync(5);
    }
    const ws = FakeSocket.last;
    expect(produced(ws).map((f) => f.sequence)).toEqual([0, 1, 2, 3, 4]);
    const later = [
      producer.produce("t", [{ value: "b" }]),
      producer.produce("t", [{ value: "c" }]),
    ];
    await vi.advanceTimersByTimeAsync(50);
    expect(produced(ws)).toHaveLength(MAX_IN_FLIGHT);
    ack(ws, produced(ws)[0] as ProduceFrame, 0);
    await expect(first).resolves.toEqual([{ partition: 0, offset: 0 }]);
    const next = produced(ws)[MAX_IN_FLIGHT] as ProduceFrame;
    expect(decodeChunk(next.batch)).toHaveLength(2);
    expect(next.sequence).toBe(MAX_IN_FLIGHT);
    produced(ws)
      .slice(1)
      .forEach((f, i) => {
        ack(ws, f, i + 1);
      });
    expect(await Promise.all(later)).toEqual([
      [{ partition: 0, offset: 5 }],
      [{ partition: 0, offset: 6 }],
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

describe("several batches in flight", () => {
  /** Sends `n` one-record batches, `value` 0..n-1, and returns their calls. */
  async function inFlight(producer: Producer, n: number) {
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < n; i++) {
      calls.push(producer.produce("t", [{ value: i }]));
      await vi.advanceTimersByTimeAsync(5);
    }
    return calls;
  }
  const valueIn = (f: ProduceFrame) => new TextDecoder().decode(decodeChunk(f.batch)[0]?.value);

  it("sends every batch in flight again on the next socket, in order, with the same sequences", async () => {
    const { producer } = setup();
    const calls = await inFlight(producer, 3);
    expect(produced(FakeSocket.last).map((f) => f.sequence)).toEqual([0, 1, 2]);
    FakeSocket.last.drop();
    await vi.advanceTimersByTimeAsync(1_000);
    FakeSocket.last.open();
    const again = produced(FakeSocket.last);
    expect(again.map((f) => [f.sequence, valueIn(f)])).toEqual([
      [0, "0"],
      [1, "1"],
      [2, "2"],
    ]);
    // The first two had been stored: the broker answers them as duplicates with their offsets.
    again.forEach((f, i) => {
      ack(FakeSocket.last, f, 10 + i, i < 2);
    });
    expect(await Promise.all(calls)).toEqual(
      [0, 1, 2].map((i) => [{ partition: 0, offset: 10 + i }]),
    );
  });

  it("after a refusal, forgets the batches sent behind it and sends them again in order, once those ahead are answered", async () => {
    const { producer } = setup();
    const [a, b, c, d] = await inFlight(producer, 4);
    const ws = FakeSocket.last;
    const [f0, f1, f2, f3] = produced(ws) as ProduceFrame[];
    refuse(ws, f1 as ProduceFrame, "RECORD_TOO_LARGE");
    await expect(b).rejects.toMatchObject({ code: "RECORD_TOO_LARGE" });
    // The broker refuses those behind it as out of sequence: answers to forgotten frames.
    refuse(ws, f2 as ProduceFrame, "SEQUENCE_GAP", false, 1);
    refuse(ws, f3 as ProduceFrame, "SEQUENCE_GAP", false, 1);
    expect(produced(ws)).toHaveLength(4);
    ack(ws, f0 as ProduceFrame, 0);
    await expect(a).resolves.toEqual([{ partition: 0, offset: 0 }]);
    const resent = produced(ws).slice(4);
    expect(resent.map((f) => [f.sequence, valueIn(f)])).toEqual([
      [1, "2"],
      [2, "3"],
    ]);
    ack(ws, resent[0] as ProduceFrame, 1);
    ack(ws, resent[1] as ProduceFrame, 2);
    await expect(c).resolves.toEqual([{ partition: 0, offset: 1 }]);
    await expect(d).resolves.toEqual([{ partition: 0, offset: 2 }]);
  });

  it("retries a THROTTLED head after a backoff, with the batches behind it again in order", async () => {
    const { producer } = setup();
    const calls = await inFlight(producer, 3);
    const ws = FakeSocket.last;
    const [f0, f1, f2] = produced(ws) as ProduceFrame[];
    refuse(ws, f0 as ProduceFrame, "THROTTLED", true);
    refuse(ws, f1 as ProduceFrame, "SEQUENCE_GAP", false, 0);
    refuse(ws, f2 as ProduceFrame, "SEQUENCE_GAP", false, 0);
    await vi.advanceTimersByTimeAsync(100);
    const resent = produced(ws).slice(3);
    expect(resent.map((f) => [f.sequence, valueIn(f)])).toEqual([
      [0, "0"],
      [1, "1"],
      [2, "2"],
    ]);
    resent.forEach((f, i) => {
      ack(ws, f, i);
    });
    expect(await Promise.all(calls)).toEqual([0, 1, 2].map((i) => [{ partition: 0, offset: i }]));
  });

  it("flush resolves only once every batch in flight is answered", async () => {
    const { producer } = setup();
    await inFlight(producer, 3);
    let flushed = false;
    producer.flush().then(() => {
      flushed = true;
    });
    const ws = FakeSocket.last;
    const frames = produced(ws);
    ack(ws, frames[0] as ProduceFrame, 0);
    ack(ws, frames[1] as ProduceFrame, 1);
    await flushMicrotasks();
    expect(flushed).toBe(false);
    ack(ws, frames[2] as ProduceFrame, 2);
    await flushMicrotasks();
    expect(flushed).toBe(true);
  });
});
