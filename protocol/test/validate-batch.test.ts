/**
 * validateProducedBatch (docs/PROTOCOL.md §4, limits from §7): a broker stores a produced
 * batch exactly as it arrived once this passes, so it must accept everything a correct
 * producer sends, report the right count, timestamps and keys, and never let through a batch
 * that the read path would then fail to decode.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  concat,
  decodeChunk,
  encodeBatch,
  KaitenError,
  Limits,
  validateProducedBatch,
  type WireRecord,
  withBaseOffset,
} from "../src/index.ts";
import { records } from "./support/arbitraries.ts";

const utf8 = new TextEncoder();

/** What counts against the record size limit: key + value + header bytes. */
function recordSize(r: WireRecord): number {
  let size = (r.key?.length ?? 0) + r.value.length;
  for (const [k, v] of r.headers) size += utf8.encode(k).length + utf8.encode(v).length;
  return size;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    if (e instanceof KaitenError) return e.code;
    throw e;
  }
}

describe("§4 validateProducedBatch", () => {
  it("accepts every batch encodeBatch produces, with its count, timestamps and keys", () => {
    fc.assert(
      fc.property(records(), (rs) => {
        const info = validateProducedBatch(encodeBatch(rs), Limits.maxRecordBytes);
        expect(info).toStrictEqual({
          count: rs.length,
          firstTimestamp: rs[0]?.timestamp,
          maxTimestamp: Math.max(...rs.map((r) => r.timestamp)),
          keys: rs.map((r) => r.key),
        });
      }),
      { numRuns: 200 },
    );
  });

  it("rejects a batch as RECORD_TOO_LARGE exactly when one of its records is over the limit", () => {
    // The limit is per topic (§7), so the broker passes it in; key + value + headers count.
    fc.assert(
      fc.property(records(), fc.integer({ min: 0, max: 200 }), (rs, max) => {
        const tooLarge = rs.some((r) => recordSize(r) > max);
        expect(codeOf(() => validateProducedBatch(encodeBatch(rs), max))).toBe(
          tooLarge ? "RECORD_TOO_LARGE" : undefined,
        );
      }),
      { numRuns: 200 },
    );
  });

  it("rejects a batch already given a base offset as INVALID_BATCH", () => {
    // Producers send base offset 0; the broker assigns offsets, a producer cannot.
    fc.assert(
      fc.property(records(4), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (rs, base) => {
        const code = codeOf(() =>
          validateProducedBatch(withBaseOffset(encodeBatch(rs), base), 1e6),
        );
        expect(code).toBe("INVALID_BATCH");
      }),
      { numRuns: 100 },
    );
  });

  it("rejects two batches laid end to end, since a produce carries exactly one", () => {
    fc.assert(
      fc.property(records(4), records(4), (a, b) => {
        const code = codeOf(() =>
          validateProducedBatch(concat([encodeBatch(a), encodeBatch(b)]), 1e6),
        );
        expect(code).toBe("MALFORMED_FRAME");
      }),
      { numRuns: 100 },
    );
  });

  it("rejects a batch whose offset deltas are not 0, 1, 2, ... as INVALID_BATCH", () => {
    // Two batches of one record each, merged into one batch by hand: both records then have
    // offset delta 0, which only a broken producer would send.
    const one = encodeBatch([
      { key: null, value: new Uint8Array([1]), format: 0, headers: [], timestamp: 5 },
    ]);
    const records = one.subarray(24);
    const merged = new Uint8Array(24 + records.length * 2);
    merged.set(one.subarray(0, 24), 0);
    merged.set(records, 24);
    merged.set(records, 24 + records.length);
    new DataView(merged.buffer).setUint32(16, 2);
    new DataView(merged.buffer).setUint32(20, records.length * 2);
    expect(codeOf(() => validateProducedBatch(merged, 1e6))).toBe("INVALID_BATCH");
  });

  it("never accepts bytes that the read path then fails to decode, even after mutation", () => {
    // "A batch that passes can be stored as it is": whatever validation lets through, however
    // it was damaged, must decode, with the count, keys and maximum timestamp it reported.
    fc.assert(
      fc.property(
        records(4),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
        (rs, edits) => {
          const bytes = encodeBatch(rs);
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          let info: ReturnType<typeof validateProducedBatch>;
          try {
            info = validateProducedBatch(bytes, Limits.maxRecordBytes);
          } catch (e) {
            expect(e).toBeInstanceOf(KaitenError);
            return;
          }
          const decoded = decodeChunk(bytes);
          expect(decoded.map((r) => r.offset)).toStrictEqual(decoded.map((_, i) => i));
          expect(decoded.length).toBe(info.count);
          expect(decoded.map((r) => r.key)).toStrictEqual(info.keys);
          expect(Math.max(...decoded.map((r) => r.timestamp))).toBe(info.maxTimestamp);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
