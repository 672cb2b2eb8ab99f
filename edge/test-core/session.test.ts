/**
 * The per-socket protocol session of the core's Partition (PROTOCOL.md §5, §8), over fakes:
 * an in-memory storage, a host whose group commit runs when the test says, and sockets that
 * keep what they were sent. The same session serves both hosts.
 */
import {
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  type ServerFrame,
  StartFrom,
  ValueFormat,
} from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { MemoryLogStorage } from "../src/core/memory-log-storage.ts";
import { Partition } from "../src/core/partition.ts";
import type { LogStorage, PeerSocket, SubscriptionState } from "../src/core/types.ts";

class FakeSocket implements PeerSocket {
  frames: ServerFrame[] = [];
  state: SubscriptionState | null = null;
  send(frame: Uint8Array): void {
    this.frames.push(decodeFrame(frame) as ServerFrame);
  }
  close(): void {}
  getState = () => this.state;
  setState = (s: SubscriptionState | null) => {
    this.state = s;
  };
}

function setup(storage: LogStorage = new MemoryLogStorage()) {
  const deferred: Array<() => void> = [];
  const logged: string[] = [];
  const sockets: FakeSocket[] = [new FakeSocket(), new FakeSocket()];
  const partition = new Partition({
    storage,
    host: {
      now: () => 1_000,
      randomEpoch: () => 9,
      defer: (fn) => void deferred.push(fn),
      log: (message) => void logged.push(message),
    },
    defaults: { partitions: 1, retentionMs: -1, retentionBytes: -1, maxRecordBytes: 1000 },
    sockets: () => sockets,
    alarm: { set: () => {} },
  });
  const commit = () => {
    for (const fn of deferred.splice(0)) fn();
  };
  return { partition, sockets: sockets as [FakeSocket, FakeSocket], commit, logged };
}

const batch = encodeBatch([
  { key: null, value: new Uint8Array([1]), format: ValueFormat.Bytes, headers: [], timestamp: 5 },
]);
const produce = (requestId: number) =>
  encodeFrame({
    type: FrameType.Produce,
    requestId,
    batch,
    producerId: "",
    producerEpoch: 0,
    sequence: 0,
  });

describe("protocol session", () => {
  it("acknowledges a produce only after its group commit", async () => {
    const { partition, sockets, commit } = setup();
    const [a] = sockets;
    const done = partition.message(a, produce(7));
    await Promise.resolve();
    expect(a.frames).toEqual([]);
    commit();
    await done;
    expect(a.frames).toMatchObject([
      { type: FrameType.ProduceAck, requestId: 7, baseOffset: 0, count: 1, epoch: 9 },
    ]);
  });

  it("answers a malformed frame with ERROR on that socket only, and carries on (§8)", async () => {
    const { partition, sockets, commit } = setup();
    const [a, b] = sockets;
    await partition.message(a, new Uint8Array([0x02, 0, 0]));
    await partition.message(a, "hello");
    expect(a.frames.map((f) => f.type === FrameType.Error && f.code)).toEqual([
      "MALFORMED_FRAME",
      "MALFORMED_FRAME",
    ]);
    expect(b.frames).toEqual([]);
    const done = partition.message(a, produce(1));
    commit();
    await done;
    expect(a.frames[2]).toMatchObject({ type: FrameType.ProduceAck, requestId: 1 });
  });

  it("names the request it refuses when the frame could be read", async () => {
    const { partition, sockets } = setup();
    const [a] = sockets;
    const credit = encodeFrame({ type: FrameType.Credit, credit: 10 });
    await partition.message(a, credit);
    const sub = (requestId: number) =>
      encodeFrame({
        type: FrameType.Subscribe,
        requestId,
        from: StartFrom.Offset,
        position: 5,
        epoch: 0,
        credit: 1000,
        key: null,
      });
    await partition.message(a, sub(3));
    expect(a.frames).toMatchObject([
      { type: FrameType.Error, requestId: 0, code: "NOT_SUBSCRIBED" },
      { type: FrameType.Error, requestId: 3, code: "OFFSET_OUT_OF_RANGE", detail: 0 },
    ]);
  });

  it("logs an unexpected failure through the host and answers INTERNAL, retriable", async () => {
    const storage = new MemoryLogStorage();
    const { partition, sockets, commit, logged } = setup(storage);
    storage.commit = () => {
      throw new Error("disk on fire");
    };
    const [a] = sockets;
    const done = partition.message(a, produce(4));
    commit();
    await done;
    expect(logged).toEqual(["commit failed"]);
    expect(a.frames).toMatchObject([
      { type: FrameType.Error, requestId: 4, code: "INTERNAL", retriable: true },
    ]);
  });

  it("survives a socket whose send throws", async () => {
    const { partition, sockets, commit } = setup();
    const [a] = sockets;
    a.send = () => {
      throw new Error("closed");
    };
    const done = partition.message(a, produce(1));
    commit();
    await expect(done).resolves.toBeUndefined();
    expect(partition.log.state.highWatermark).toBe(1);
  });
});
