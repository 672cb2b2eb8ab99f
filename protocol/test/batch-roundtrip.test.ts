/**
 * Property: a batch decodes to the records it was encoded from (docs/PROTOCOL.md §4), with
 * offsets base, base + 1, ... and each record's own timestamp (stored as a signed delta from
 * the first record's, so later records may be older).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeChunk, encodeBatch, KaitenError, withBaseOffset } from "../src/index.ts";
import { chunk, records, u64 } from "./support/arbitraries.ts";
import { bytesToHex } from "./support/fixtures.ts";

const MAX_OFFSET = Number.MAX_SAFE_INTEGER;

describe("§4 record batches: decodeChunk(encodeBatch(records)) gives the records back", () => {
  it("gives back every record with offsets base..base+n-1", () => {
    fc.assert(
      fc.property(records(), u64, (rs, anyBase) => {
        // Keep the last offset within 2^53 - 1, the largest offset the format carries.
        const base = Math.min(anyBase, MAX_OFFSET - (rs.length - 1));
        const decoded = decodeChunk(encodeBatch(rs, base));
        expect(decoded).toStrictEqual(rs.map((r, i) => ({ ...r, offset: base + i })));
      }),
      { numRuns: 200 },
    );
  });

  it("gives back the records of every batch of a chunk, in order", () => {
    fc.assert(
      fc.property(chunk, ({ bytes, stored }) => {
        expect(decodeChunk(bytes)).toStrictEqual(stored);
      }),
      { numRuns: 200 },
    );
  });

  it("stores a produced batch at any base offset by patching the header alone", () => {
    // withBaseOffset is how the broker stores a batch without re-encoding it: the result must
    // be byte-for-byte what encoding at that base offset would have produced.
    fc.assert(
      fc.property(records(), u64, (rs, base) => {
        const patched = withBaseOffset(encodeBatch(rs), base);
        // Compared as hex: vitest's element-by-element Uint8Array diff is slow at this volume.
        expect(bytesToHex(patched)).toBe(bytesToHex(encodeBatch(rs, base)));
      }),
      { numRuns: 200 },
    );
  });

  it("reads an empty chunk as no records", () => {
    expect(decodeChunk(new Uint8Array(0))).toStrictEqual([]);
  });

  it("refuses to encode a batch of no records", () => {
    // §4: a batch holds at least one record; the base timestamp is the first record's.
    expect(() => encodeBatch([])).toThrow(KaitenError);
    expect(() => encodeBatch([])).toThrow(expect.objectContaining({ code: "INVALID_BATCH" }));
  });
});
