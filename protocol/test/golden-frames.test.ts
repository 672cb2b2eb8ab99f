/**
 * Golden bytes for every frame type (docs/PROTOCOL.md §5). The fixtures in
 * fixtures/frames.golden.json were written by hand from the layout in the spec, field by
 * field; these tests pin the encoder and decoder to them so a change to the wire format can
 * never slip in unnoticed (clients in other languages are written against these bytes).
 */
import { describe, expect, it } from "vitest";
import { decodeFrame, encodeFrame, FrameType } from "../src/index.ts";
import { bytesToHex, frameFixtures, hexToBytes, layoutHex } from "./support/fixtures.ts";

describe("§5 frames: golden bytes", () => {
  it("has a fixture for every frame type, and for SUBSCRIBE with and without a key filter", () => {
    // A new frame type must come with a golden fixture; this fails until it does.
    const types = new Set(frameFixtures.map((f) => f.frame.type));
    for (const type of Object.values(FrameType))
      expect(types, `type 0x${type.toString(16)}`).toContain(type);
    const subscribeKeys = frameFixtures.flatMap((f) =>
      f.frame.type === FrameType.Subscribe ? [f.frame.key] : [],
    );
    expect(subscribeKeys).toContainEqual(null);
    expect(subscribeKeys.some((k) => k !== null && k.length > 0)).toBe(true);
  });

  describe.each(frameFixtures)("$name ($spec): $description", (fixture) => {
    it("documents a layout whose bytes are exactly the fixture hex", () => {
      // The layout column is what a reader checks by eye; it must be the same bytes.
      expect(layoutHex(fixture.layout)).toBe(fixture.hex);
    });

    it("encodes to exactly the fixture bytes", () => {
      expect(bytesToHex(encodeFrame(fixture.frame))).toBe(fixture.hex);
    });

    it("decodes the fixture bytes to exactly the frame", () => {
      expect(decodeFrame(hexToBytes(fixture.hex))).toStrictEqual(fixture.frame);
    });

    it("decodes the fixture bytes from a view into the middle of a larger buffer", () => {
      // WebSocket libraries hand out views into pooled buffers (Node's Buffer does), so the
      // decoder must honour byteOffset rather than read from the start of the ArrayBuffer.
      const bytes = hexToBytes(fixture.hex);
      const pool = new Uint8Array(bytes.length + 13).fill(0xee);
      pool.set(bytes, 7);
      expect(decodeFrame(pool.subarray(7, 7 + bytes.length))).toStrictEqual(fixture.frame);
    });
  });
});
