import { describe, expect, it } from "vitest";
import {
  decodeChunk,
  encodeBatch,
  murmur2,
  validateProducedBatch,
  withBaseOffset,
} from "../src/index.ts";

const te = new TextEncoder();
describe("smoke", () => {
  it("hashes Kafka's vectors", () => {
    expect(murmur2(te.encode("21"))).toBe(-973932308);
    expect(murmur2(te.encode("abc"))).toBe(479470107);
    expect(murmur2(te.encode("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
  });
  it("round-trips a batch", () => {
    const b = encodeBatch([
      {
        key: te.encode("k"),
        value: te.encode('{"a":1}'),
        format: 1,
        headers: [["h", "v"]],
        timestamp: 1_700_000_000_000,
      },
      {
        key: null,
        value: new Uint8Array([1, 2]),
        format: 0,
        headers: [],
        timestamp: 1_699_999_999_995,
      },
    ]);
    expect(validateProducedBatch(b, 1000).count).toBe(2);
    const recs = decodeChunk(withBaseOffset(b, 42));
    expect(recs.map((r) => [r.offset, r.timestamp])).toEqual([
      [42, 1_700_000_000_000],
      [43, 1_699_999_999_995],
    ]);
  });
});
