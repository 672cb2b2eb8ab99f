/**
 * The integer encodings every frame and batch is built from (docs/PROTOCOL.md §3.3): u64 and
 * varints carry integers up to 2^53 - 1 exactly, and anything that would not fit a
 * JavaScript number is a decoding error (a KaitenError), never a silently rounded value.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { varintSize } from "../src/bytes.ts";
import { KaitenError, Reader, Writer } from "../src/index.ts";
import { bytesToHex, hexToBytes } from "./support/fixtures.ts";

const MAX = Number.MAX_SAFE_INTEGER; // 2^53 - 1

function malformed(run: () => unknown): void {
  expect(run).toThrow(KaitenError);
  expect(run).toThrow(expect.objectContaining({ code: "MALFORMED_FRAME" }));
}

describe("§3.3 integers: Writer and Reader", () => {
  it.each([
    [0, "00"],
    [127, "7f"],
    [128, "8001"],
    [300, "ac02"],
    [2 ** 32, "8080808010"],
    [MAX, "ffffffffffffff0f"],
  ])("writes the varint %d as the LEB128 bytes %s and reads it back", (n, hex) => {
    expect(bytesToHex(new Writer().varint(n).finish())).toBe(hex);
    expect(varintSize(n)).toBe(hex.length / 2);
    const r = new Reader(hexToBytes(hex));
    expect(r.varint()).toBe(n);
    expect(r.remaining).toBe(0);
  });

  it.each([
    [0, "0000000000000000"],
    [127, "000000000000007f"],
    [128, "0000000000000080"],
    [2 ** 32, "0000000100000000"],
    [MAX, "001fffffffffffff"],
  ])("writes the u64 %d big-endian as %s and reads it back", (n, hex) => {
    expect(bytesToHex(new Writer().u64(n).finish())).toBe(hex);
    expect(new Reader(hexToBytes(hex)).u64()).toBe(n);
  });

  it.each([
    [0, "00"],
    [-1, "01"],
    [1, "02"],
    [-5, "09"],
    [300, "d804"],
    [-(2 ** 52), "ffffffffffffff0f"],
    [2 ** 52 - 1, "feffffffffffff0f"],
  ])("zigzag-encodes the svarint %d as %s and reads it back", (n, hex) => {
    expect(bytesToHex(new Writer().svarint(n).finish())).toBe(hex);
    expect(new Reader(hexToBytes(hex)).svarint()).toBe(n);
  });

  it("round-trips every varint and u64 up to 2^53 - 1, and every u8, u16 and u32", () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xffff }),
        fc.integer({ min: 0, max: 0xffff_ffff }),
        (n, a, b, c) => {
          const bytes = new Writer(1).varint(n).u64(n).u8(a).u16(b).u32(c).finish();
          expect(bytes.length).toBe(varintSize(n) + 8 + 1 + 2 + 4);
          const r = new Reader(bytes);
          expect([r.varint(), r.u64(), r.u8(), r.u16(), r.u32(), r.remaining]).toStrictEqual([
            n,
            n,
            a,
            b,
            c,
            0,
          ]);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("round-trips every svarint whose zigzag value stays below 2^53", () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 - 1 }), (n) => {
        expect(new Reader(new Writer().svarint(n).finish()).svarint()).toBe(n);
      }),
      { numRuns: 1000 },
    );
  });

  it("grows past its initial capacity without losing bytes", () => {
    const w = new Writer(1);
    const chunk = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);
    w.u8(7).bytes(chunk).lenBytes(chunk).u32(0xdeadbeef);
    const r = new Reader(w.finish());
    expect(r.u8()).toBe(7);
    expect(r.bytes(1000)).toStrictEqual(chunk);
    expect(r.lenBytes(1000)).toStrictEqual(chunk);
    expect(r.u32()).toBe(0xdeadbeef);
  });

  it.each([
    ["2^53", "0020000000000000"],
    ["2^53 + 1", "0020000000000001"],
    ["2^64 - 1", "ffffffffffffffff"],
  ])("fails a u64 of %s as MALFORMED_FRAME rather than rounding it", (_n, hex) => {
    malformed(() => new Reader(hexToBytes(hex)).u64());
  });

  it("fails every u64 of 2^53 or more as MALFORMED_FRAME", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 2n ** 53n, max: 2n ** 64n - 1n }), (n) => {
        const bytes = new Uint8Array(8);
        new DataView(bytes.buffer).setBigUint64(0, n);
        malformed(() => new Reader(bytes).u64());
      }),
      { numRuns: 200 },
    );
  });

  it.each([
    ["2^53, the first value past the limit", "8080808080808010"],
    ["2^56 - 1, the most 8 bytes hold", "ffffffffffffff7f"],
    ["a 9-byte varint", "808080808080808001"],
    ["a non-minimal 0 (80 00)", "8000"],
    ["a non-minimal 1 (81 80 00)", "818000"],
    ["a varint cut off mid-way", "8080"],
    ["nothing at all", ""],
  ])("fails %s as MALFORMED_FRAME", (_why, hex) => {
    malformed(() => new Reader(hexToBytes(hex)).varint());
  });

  it("never reads past the end it was given, even inside a larger buffer", () => {
    // Readers are bounded to one batch inside a chunk; reading on must not see the next one.
    const r = new Reader(hexToBytes("0102030405060708"), 2, 5);
    expect(r.u16()).toBe(0x0304);
    malformed(() => r.u16());
    expect(r.u8()).toBe(0x05);
    malformed(() => r.u8());
  });

  it("fails a length-prefixed field longer than its limit before reading it", () => {
    malformed(() => new Reader(hexToBytes("05aabbccddee")).lenBytes(4));
    expect(new Reader(hexToBytes("04aabbccdd")).lenBytes(4)).toStrictEqual(hexToBytes("aabbccdd"));
  });
});
