/**
 * Property: every valid frame of every type (docs/PROTOCOL.md §5) survives encode then
 * decode unchanged. Golden fixtures pin a handful of exact byte strings; these properties
 * cover the whole range of every field (u32 limits, u64 up to 2^53 - 1, non-ASCII text,
 * producer ids up to 64 UTF-8 bytes, key filters up to 4096 bytes).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, type Frame } from "../src/index.ts";
import { frameArbitraries } from "./support/arbitraries.ts";

describe("§5 frames: decode(encode(frame)) is the frame", () => {
  it.each(Object.entries(frameArbitraries) as Array<[string, fc.Arbitrary<Frame>]>)(
    "round-trips every valid %s frame",
    (_name, arbitrary) => {
      fc.assert(
        fc.property(arbitrary, (frame) => {
          expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame);
        }),
        { numRuns: 200 },
      );
    },
  );

  it("encodes equal frames to equal bytes (the encoding is a function of the frame alone)", () => {
    // Encoding is deterministic: re-encoding what was decoded gives the same bytes, which is
    // what lets a broker or a test compare frames by their bytes.
    fc.assert(
      fc.property(fc.oneof(...Object.values(frameArbitraries)), (frame) => {
        const bytes = encodeFrame(frame);
        expect(encodeFrame(decodeFrame(bytes))).toStrictEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});
