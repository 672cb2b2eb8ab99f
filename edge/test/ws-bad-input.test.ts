/**
 * Bad input over a WebSocket (docs/PROTOCOL.md §3.2, §4, §5, §5.5, §7, §8): every message that
 * is not one valid frame is answered with an ERROR frame carrying the documented code, and
 * nothing else happens: the socket stays open and its subscription carries on, other
 * subscribers keep receiving, and the log is unchanged.
 */
import {
  BATCH_HEADER_BYTES,
  type ErrorName,
  encodeBatch,
  encodeFrame,
  FrameType,
  Limits,
  PING,
  PONG,
  StartFrom,
  ValueFormat,
} from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import {
  createTopic,
  describeFrame,
  isType,
  makeRecords,
  openSocket,
  partitionInfo,
  produceFrame,
  readAllHttp,
  subscribeFrame,
  uniqueTopic,
  view,
} from "./helpers.ts";

const MAX_RECORD_BYTES = 100;

function batchOf(n: number): Uint8Array {
  return encodeBatch(makeRecords(n, { prefix: "bad" }));
}

function produce(batch: Uint8Array, requestId = 42): Uint8Array {
  return encodeFrame(produceFrame(requestId, batch));
}

function patched(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at < 0 ? copy.length + at : at] = value;
  return copy;
}

/** Two copies of one record under a header saying two: both have offset delta 0. */
function repeatedDeltaBatch(): Uint8Array {
  const one = batchOf(1);
  const record = one.subarray(BATCH_HEADER_BYTES);
  const out = new Uint8Array(BATCH_HEADER_BYTES + record.length * 2);
  out.set(one.subarray(0, BATCH_HEADER_BYTES));
  new DataView(out.buffer).setUint32(16, 2);
  new DataView(out.buffer).setUint32(20, record.length * 2);
  out.set(record, BATCH_HEADER_BYTES);
  out.set(record, BATCH_HEADER_BYTES + record.length);
  return out;
}

function emptyBatch(): Uint8Array {
  const header = batchOf(1).slice(0, BATCH_HEADER_BYTES);
  new DataView(header.buffer).setUint32(16, 0);
  new DataView(header.buffer).setUint32(20, 0);
  return header;
}

function withHeader(): Uint8Array {
  const [record] = makeRecords(1);
  if (!record) throw new Error("no record");
  return encodeBatch([{ ...record, headers: [["k", "v"]] }]);
}

/** A PRODUCE whose producer id is one byte over the limit (encodeFrame refuses to build one). */
function longProducerIdFrame(): Uint8Array {
  const id = Limits.maxProducerIdBytes + 1;
  const batch = batchOf(1);
  const out = new Uint8Array(1 + 4 + 1 + id + 4 + 4 + batch.length);
  const view = new DataView(out.buffer);
  out[0] = FrameType.Produce;
  view.setUint32(1, 42);
  out[5] = id;
  out.fill(0x70, 6, 6 + id);
  out.set(batch, 6 + id + 8);
  return out;
}

/** A PRODUCE frame of exactly `total` bytes, its one record a run of zero bytes. */
function produceOfSize(total: number): Uint8Array {
  let n = total - 64;
  for (;;) {
    const record = {
      key: null,
      value: new Uint8Array(n),
      format: ValueFormat.Bytes,
      headers: [],
      timestamp: 1,
    };
    const frame = produce(encodeBatch([record]));
    if (frame.length === total) return frame;
    n += total - frame.length;
  }
}

interface BadInput {
  what: string;
  data: () => Uint8Array | string;
  code: ErrorName;
  /** The request id the ERROR answers: 0 when the frame could not be read that far. */
  requestId: number;
}

const subscribe = (o: Parameters<typeof subscribeFrame>[0]) => encodeFrame(subscribeFrame(o));
const truncatedProduce = produce(batchOf(2));
const subscribeBytes = subscribe({ requestId: 5, from: StartFrom.Earliest });

const BAD_INPUTS: BadInput[] = [
  {
    what: "garbage bytes",
    data: () => new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0, 0x13]),
    code: "UNKNOWN_FRAME_TYPE",
    requestId: 0,
  },
  {
    what: "garbage after a SUBSCRIBE type byte",
    data: () => new Uint8Array([0x02, 0xff, 0x00]),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "an empty binary message",
    data: () => new Uint8Array(0),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a PRODUCE cut short inside its batch",
    data: () => truncatedProduce.slice(0, -5),
    code: "MALFORMED_FRAME",
    requestId: 42,
  },
  {
    what: "a SUBSCRIBE cut short",
    data: () => subscribeBytes.slice(0, 10),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a SUBSCRIBE with bytes after its end",
    data: () => new Uint8Array([...subscribeBytes, 0]),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "an unknown frame type byte",
    data: () => new Uint8Array([0x7f, 0, 0, 0, 1]),
    code: "UNKNOWN_FRAME_TYPE",
    requestId: 0,
  },
  {
    what: "a server frame type (PRODUCE_ACK) sent by the client",
    data: () =>
      encodeFrame({
        type: FrameType.ProduceAck,
        requestId: 77,
        baseOffset: 0,
        count: 1,
        epoch: 1,
        duplicate: false,
      }),
    code: "UNKNOWN_FRAME_TYPE",
    requestId: 77,
  },
  {
    what: "a text message other than ping",
    data: () => "hello",
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a batch with no records",
    data: () => produce(emptyBatch()),
    code: "INVALID_BATCH",
    requestId: 42,
  },
  {
    what: "a record over the topic's maxRecordBytes",
    data: () => produce(encodeBatch(makeRecords(1, { valueBytes: MAX_RECORD_BYTES + 50 }))),
    code: "RECORD_TOO_LARGE",
    requestId: 42,
  },
  {
    what: "a frame over 1,048,576 bytes",
    data: () => produceOfSize(Limits.maxFrameBytes + 1),
    code: "FRAME_TOO_LARGE",
    requestId: 0,
  },
  {
    what: "a batch of more than 10,000 records",
    data: () => produce(encodeBatch(makeRecords(Limits.maxBatchRecords + 1, { prefix: "" }))),
    code: "INVALID_BATCH",
    requestId: 42,
  },
  {
    what: "a batch with a nonzero base offset",
    data: () => produce(encodeBatch(makeRecords(2), 7)),
    code: "INVALID_BATCH",
    requestId: 42,
  },
  {
    what: "a batch whose offset deltas repeat",
    data: () => produce(repeatedDeltaBatch()),
    code: "INVALID_BATCH",
    requestId: 42,
  },
  {
    what: "a batch with bytes after its last record",
    data: () => produce(new Uint8Array([...batchOf(1), 0])),
    code: "MALFORMED_FRAME",
    requestId: 42,
  },
  {
    what: "a record with unknown attribute bits",
    data: () => produce(patched(batchOf(1), BATCH_HEADER_BYTES, 0x80)),
    code: "MALFORMED_FRAME",
    requestId: 42,
  },
  {
    what: "a header value that is not UTF-8",
    data: () => produce(patched(withHeader(), -1, 0xff)),
    code: "MALFORMED_FRAME",
    requestId: 42,
  },
  {
    what: "a producer id over 64 bytes",
    data: () => longProducerIdFrame(),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a SUBSCRIBE with an unknown start kind",
    data: () => patched(subscribeBytes, 5, 9),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a SUBSCRIBE position beyond 2^53",
    data: () => patched(subscribe({ requestId: 5, from: StartFrom.Offset }), 6, 0xff),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
  {
    what: "a SUBSCRIBE key filter longer than the key limit",
    data: () => subscribe({ requestId: 5, key: "k".repeat(Limits.maxKeyBytes + 1) }),
    code: "MALFORMED_FRAME",
    requestId: 0,
  },
];

/**
 * A topic with a small record limit; the socket under test produces and (when `subscribe`)
 * holds a subscription of its own; a second socket watches the partition.
 */
async function setup(subscribe: boolean) {
  const topic = uniqueTopic("bad");
  await createTopic(topic, { maxRecordBytes: MAX_RECORD_BYTES });
  const socket = await openSocket(topic);
  const watcher = await openSocket(topic);
  await watcher.subscribed({ from: StartFrom.Earliest });
  if (subscribe) await socket.subscribed({ from: StartFrom.Earliest });
  await socket.produceAck(makeRecords(2, { prefix: "before" }));
  await watcher.recordsUntil(2);
  if (subscribe) await socket.recordsUntil(2);
  return { topic, socket, watcher, subscribed: subscribe };
}

/** The socket still works, subscribers got only the good batch, the log holds only good records. */
async function expectUnharmed(s: Awaited<ReturnType<typeof setup>>, hw: number) {
  const ack = await s.socket.produceAck(makeRecords(2, { prefix: "after" }));
  expect(ack.baseOffset).toBe(hw);
  for (const sub of s.subscribed ? [s.watcher, s.socket] : [s.watcher]) {
    const { records } = await sub.recordsUntil(hw + 2);
    expect(records.map(view).map((r) => r.offset)).toEqual([hw, hw + 1]);
    expect(await sub.framesWithin(50)).toEqual([]);
  }
  expect((await partitionInfo(s.topic)).highWatermark).toBe(hw + 2);
  const stored = await readAllHttp(s.topic);
  expect(stored.records.every((r) => /^(before|after)-/.test(String(r.value)))).toBe(true);
  s.socket.close();
  s.watcher.close();
}

describe("bad input over a WebSocket", () => {
  it.each(BAD_INPUTS)(
    "answers $what with $code and changes nothing",
    async ({ data, code, requestId }) => {
      const s = await setup(true);
      s.socket.sendRaw(data());
      const reply = await s.socket.waitFor(isType(FrameType.Error), "an ERROR");
      expect(reply, describeFrame(reply)).toMatchObject({ code, requestId, retriable: false });
      expect(s.socket.isClosed).toBe(false);
      await expectUnharmed(s, 2);
    },
  );

  it("answers random garbage with protocol errors, never INTERNAL, and stays usable", async () => {
    // No subscription on this socket: a random CREDIT or UNSUBSCRIBE would then be valid.
    const s = await setup(false);
    const socket = s.socket;
    let x = 7;
    const random = (max: number) => {
      x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
      return x % max;
    };
    const types = [0x01, 0x02, 0x03, 0x04, 0x81, 0x82, 0x83, 0x84, 0x85];
    for (let i = 0; i < 60; i++) {
      const bytes = Uint8Array.from({ length: 1 + random(64) }, () => random(256));
      if (i % 2 === 0) bytes[0] = types[random(types.length)] ?? 0;
      socket.sendRaw(bytes);
      const reply = await socket.next();
      expect(reply.type, describeFrame(reply)).toBe(FrameType.Error);
      if (reply.type === FrameType.Error) expect(reply.code).not.toBe("INTERNAL");
    }
    await expectUnharmed(s, 2);
  });

  it("has the runtime answer a ping text message with pong", async () => {
    const socket = await openSocket(uniqueTopic("ping"));
    socket.sendRaw(PING);
    expect(await socket.nextText()).toBe(PONG);
    expect(await socket.framesWithin(50)).toEqual([]);
    socket.close();
  });
});
