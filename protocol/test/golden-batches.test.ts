/**
 * Golden bytes for record batches and chunks (docs/PROTOCOL.md §4). The fixtures in
 * fixtures/batches.golden.json were laid out by hand from the spec: keyed and keyless
 * records, JSON and bytes values, headers (non-ASCII too), an empty key, a negative
 * timestamp delta and one that needs a two-byte varint, and a chunk of two stored batches.
 */
import { describe, expect, it } from "vitest";
import {
  concat,
  decodeChunk,
  encodeBatch,
  filterChunk,
  validateProducedBatch,
  withBaseOffset,
} from "../src/index.ts";
import { batchFixtures, bytesToHex, hexToBytes, layoutHex } from "./support/fixtures.ts";

function fixture(name: string) {
  const found = batchFixtures.find((f) => f.name === name);
  if (!found) throw new Error(`no batch fixture ${name}`);
  return found;
}

describe("§4 record batches: golden bytes", () => {
  describe.each(batchFixtures)("$name ($spec): $description", (f) => {
    const bytes = hexToBytes(f.hex);
    const stored = f.batches.flatMap((b) =>
      b.records.map((r, i) => ({ ...r, offset: b.baseOffset + i })),
    );

    it("documents a layout whose bytes are exactly the fixture hex", () => {
      expect(layoutHex(f.layout)).toBe(f.hex);
    });

    it("encodes to exactly the fixture bytes", () => {
      const encoded = concat(f.batches.map((b) => encodeBatch(b.records, b.baseOffset)));
      expect(bytesToHex(encoded)).toBe(f.hex);
    });

    it("decodes to exactly the records, with offsets counted from each base offset", () => {
      expect(decodeChunk(bytes)).toStrictEqual(stored);
    });

    it("is returned as the very same bytes by a filter that keeps everything", () => {
      expect(filterChunk(bytes, () => true)).toBe(bytes);
    });
  });

  describe.each(batchFixtures.filter((f) => f.batches.length === 1))(
    "$name as a produced batch",
    (f) => {
      it("passes validation with its count, timestamps and keys", () => {
        const records = f.batches[0]?.records ?? [];
        const info = validateProducedBatch(hexToBytes(f.hex), 1_000_000);
        expect(info).toStrictEqual({
          count: records.length,
          firstTimestamp: records[0]?.timestamp,
          maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
          keys: records.map((r) => r.key),
        });
      });
    },
  );

  it("stores a produced batch by patching only its base offset", () => {
    // The broker never re-encodes: the stored chunk is the produced batches with the base
    // offset written over bytes 0..7 and nothing else changed.
    const stored = concat([
      withBaseOffset(hexToBytes(fixture("keyed-json-with-header").hex), 41),
      withBaseOffset(hexToBytes(fixture("keyless-bytes-negative-delta").hex), 42),
    ]);
    expect(bytesToHex(stored)).toBe(fixture("chunk-two-stored-batches").hex);
  });

  it("leaves the produced batch untouched when it patches the base offset", () => {
    const produced = hexToBytes(fixture("keyed-json-with-header").hex);
    withBaseOffset(produced, 2 ** 53 - 1);
    expect(bytesToHex(produced)).toBe(fixture("keyed-json-with-header").hex);
  });

  it("writes a base offset past 2^32 as a big-endian u64", () => {
    const produced = hexToBytes(fixture("keyed-json-with-header").hex);
    expect(bytesToHex(withBaseOffset(produced, 2 ** 53 - 1).subarray(0, 8))).toBe(
      "001fffffffffffff",
    );
    expect(decodeChunk(withBaseOffset(produced, 2 ** 32 + 5))[0]?.offset).toBe(2 ** 32 + 5);
  });
});
