/**
 * The SDK's half of the frame codec equals the protocol's, byte for byte (PROTOCOL.md §5):
 * client frames encode as encodeFrame encodes them, server frames decode as decodeFrame does.
 */
import {
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  KaitenError,
  type ServerFrame,
  StartFrom,
  ValueFormat,
} from "@kaiten/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  creditFrame,
  errorFrame,
  produceAckFrame,
  producerId,
  records,
  recordsFrame,
  subscribedFrame,
  subscribeFrame,
  u32,
  unsubscribedFrame,
  unsubscribeFrame,
} from "../../protocol/test/support/arbitraries.ts";
import * as codes from "../src/codes.ts";
import { KaitenClientError } from "../src/errors.ts";
import {
  decodeServerFrame,
  encodeClientFrame,
  encodeProduce,
  patchProduce,
} from "../src/frames.ts";

// The protocol suite's generators (non-ASCII text, producer ids up to 64 bytes, offsets up
// to 2^53 - 1), so both codecs are checked over the same space.
const clientFrames = fc.oneof(subscribeFrame, creditFrame, unsubscribeFrame);
const serverFrames: fc.Arbitrary<ServerFrame> = fc.oneof(
  produceAckFrame,
  subscribedFrame,
  recordsFrame,
  errorFrame,
  unsubscribedFrame,
);

describe("the SDK's frame codec", () => {
  it("encodes SUBSCRIBE, CREDIT and UNSUBSCRIBE exactly as the protocol's encodeFrame (§5.2, §5.3)", () => {
    fc.assert(
      fc.property(clientFrames, (f) => {
        expect(encodeClientFrame(f)).toEqual(encodeFrame(f));
      }),
    );
  });

  it("writes PRODUCE frames in one buffer exactly as encodeFrame around encodeBatch (§4, §5.1)", () => {
    fc.assert(
      fc.property(producerId, records(), u32, u32, u32, (id, recs, requestId, epoch, seq) => {
        const frame = encodeProduce(id, recs);
        patchProduce(frame, requestId, epoch, seq);
        expect(frame).toEqual(
          encodeFrame({
            type: FrameType.Produce,
            requestId,
            producerId: id,
            producerEpoch: epoch,
            sequence: seq,
            batch: encodeBatch(recs),
          }),
        );
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
      expect(() => decodeServerFrame(frame)).toThrow(KaitenClientError);
      expect(() => decodeFrame(frame)).toThrow(KaitenError);
    }
    // A client frame is not something a broker sends.
    expect(() => decodeServerFrame(encodeFrame({ type: FrameType.Credit, credit: 1 }))).toThrow(
      /frame type 3/,
    );
  });
});

it("writes the protocol's frame types, start positions and value formats as the same numbers (codes.ts)", () => {
  // AUTH is written by renew.ts, off the main entry, with the protocol's own constant.
  const types = Object.entries(FrameType).filter(([name]) => name !== "Auth");
  const upper = (name: string) => name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  const mine = codes as Record<string, number>;
  for (const [name, value] of types) expect(mine[upper(name)], name).toBe(value);
  for (const [name, value] of Object.entries(StartFrom))
    expect(mine[`FROM_${upper(name)}`], name).toBe(value);
  expect([codes.BYTES, codes.JSON_VALUE]).toEqual([ValueFormat.Bytes, ValueFormat.Json]);
});
