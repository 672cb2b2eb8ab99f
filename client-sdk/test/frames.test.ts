/**
 * The SDK's half of the frame codec equals the protocol's, byte for byte (PROTOCOL.md §5):
 * client frames encode as encodeFrame encodes them, server frames decode as decodeFrame does.
 */
import {
  decodeFrame,
  ErrorCode,
  type ErrorName,
  encodeFrame,
  FrameType,
  KaitenError,
  type ServerFrame,
} from "@kaiten/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeServerFrame, encodeClientFrame } from "../src/frames.ts";

const u32 = fc.integer({ min: 0, max: 0xffff_ffff });
const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

const produce = fc.record({
  type: fc.constant(FrameType.Produce),
  requestId: u32,
  producerId: fc.string({ maxLength: 16 }),
  producerEpoch: u32,
  sequence: u32,
  batch: bytes(64),
});
const subscribe = fc.record({
  type: fc.constant(FrameType.Subscribe),
  requestId: u32,
  from: fc.constantFrom(0, 1, 2, 3 as const),
  position: u64,
  epoch: u32,
  credit: u32,
  key: fc.option(bytes(32), { nil: null }),
});
const credit = fc.record({ type: fc.constant(FrameType.Credit), credit: u32 });
const unsubscribe = fc.record({ type: fc.constant(FrameType.Unsubscribe), requestId: u32 });

const serverFrames: fc.Arbitrary<ServerFrame> = fc.oneof(
  fc.record({
    type: fc.constant(FrameType.ProduceAck),
    requestId: u32,
    baseOffset: u64,
    count: u32,
    epoch: u32,
    duplicate: fc.boolean(),
  }),
  fc.record({
    type: fc.constant(FrameType.Subscribed),
    requestId: u32,
    epoch: u32,
    startOffset: u64,
    earliestOffset: u64,
    highWatermark: u64,
  }),
  fc.record({
    type: fc.constant(FrameType.Records),
    nextOffset: u64,
    highWatermark: u64,
    batches: bytes(64),
  }),
  fc.record({
    type: fc.constant(FrameType.Error),
    requestId: u32,
    code: fc.constantFrom(...(Object.keys(ErrorCode) as ErrorName[])),
    retriable: fc.boolean(),
    detail: u64,
    message: fc.string({ maxLength: 40 }),
  }),
  fc.record({ type: fc.constant(FrameType.Unsubscribed), requestId: u32 }),
);

describe("the SDK's frame codec", () => {
  it("encodes every client frame exactly as the protocol's encodeFrame (§5.1-5.3)", () => {
    fc.assert(
      fc.property(fc.oneof(produce, subscribe, credit, unsubscribe), (f) => {
        expect(encodeClientFrame(f)).toEqual(encodeFrame(f));
      }),
    );
  });

  it("decodes every server frame exactly as the protocol's decodeFrame (§5.1-5.5)", () => {
    fc.assert(
      fc.property(serverFrames, (f) => {
        const wire = encodeFrame(f);
        expect(decodeServerFrame(wire)).toEqual(decodeFrame(wire));
      }),
    );
  });

  it("refuses what is not exactly one server frame, with a coded error", () => {
    const ack = encodeFrame({
      type: FrameType.ProduceAck,
      requestId: 1,
      baseOffset: 0,
      count: 1,
      epoch: 1,
      duplicate: false,
    });
    const malformed = [
      new Uint8Array([...ack, 0]),
      ack.subarray(0, ack.length - 1),
      new Uint8Array([...ack.subarray(0, ack.length - 1), 2]),
    ];
    for (const frame of malformed) {
      expect(() => decodeServerFrame(frame)).toThrow(KaitenError);
      expect(() => decodeFrame(frame)).toThrow(KaitenError);
    }
    // A client frame is not something a broker sends.
    expect(() => decodeServerFrame(encodeFrame({ type: FrameType.Credit, credit: 1 }))).toThrow(
      /frame type 3/,
    );
  });
});
