/**
 * The receive path reads records in place (PROTOCOL.md §4): every field comes out as the
 * protocol's decodeChunk decodes it, whatever the chunk, and nothing is decoded before it
 * is read.
 */
import { decodeChunk, encodeBatch, ValueFormat } from "@kaiten/protocol";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { chunk } from "../../protocol/test/support/arbitraries.ts";
import { Chunk } from "../src/records.ts";
import { jsonSerde, type Rec, type Serde } from "../src/serde.ts";

/** Bytes stay bytes; JSON-flagged ones become text (the arbitrary's JSON values need not parse). */
const raw: Serde = {
  serialize: () => ({ bytes: new Uint8Array(), json: false }),
  deserialize: (bytes, json) => (json ? new TextDecoder().decode(bytes) : bytes),
};

function readAll(bytes: Uint8Array, min = 0, serde = raw): Rec[] {
  const c = new Chunk(bytes, min);
  const out: Rec[] = [];
  for (let r = c.next("t", 3, serde); r; r = c.next("t", 3, serde)) out.push(r);
  expect(c.spent).toBe(true);
  return out;
}

describe("records read in place", () => {
  it("gives every field of every record as decodeChunk does, across batches (§4.1, §4.2)", () => {
    fc.assert(
      fc.property(chunk, ({ bytes }) => {
        const expected = decodeChunk(bytes).map((s) => ({
          topic: "t",
          partition: 3,
          offset: s.offset,
          key: s.key && new TextDecoder("utf-8", { ignoreBOM: true }).decode(s.key),
          value: s.format === ValueFormat.Json ? new TextDecoder().decode(s.value) : s.value,
          headers: Object.fromEntries(s.headers),
          timestamp: s.timestamp,
        }));
        expect(readAll(bytes).map((r) => (r as unknown as { toJSON(): Rec }).toJSON())).toEqual(
          expected,
        );
      }),
    );
  });

  it("skips records below the offset it starts from (the seam of a resubscription)", () => {
    fc.assert(
      fc.property(chunk, fc.nat(20), ({ stored, bytes }, skip) => {
        const min = (stored[0]?.offset ?? 0) + skip;
        expect(readAll(bytes, min).map((r) => r.offset)).toEqual(
          stored.map((s) => s.offset).filter((o) => o >= min),
        );
      }),
    );
  });

  it("decodes a value only when it is read, once, and lets the application replace it", () => {
    fc.assert(
      fc.property(chunk, ({ bytes }) => {
        let calls = 0;
        const counting: Serde = {
          ...jsonSerde,
          deserialize: (b, j) => {
            calls++;
            return raw.deserialize(b, j);
          },
        };
        const recs = readAll(bytes, 0, counting);
        expect(calls).toBe(0);
        const first = recs[0] as Rec;
        expect(first.value).toBe(first.value);
        expect(calls).toBe(1);
        first.value = "mine";
        expect(first.value).toBe("mine");
      }),
    );
  });

  it('keeps a header named "__proto__" as a header, and leaves the prototype alone', () => {
    const bytes = encodeBatch([
      {
        key: null,
        value: new Uint8Array(),
        format: ValueFormat.Bytes,
        headers: [
          ["__proto__", "x"],
          ["constructor", "y"],
        ],
        timestamp: 1,
      },
    ]);
    const headers = (readAll(bytes)[0] as Rec).headers;
    expect(Object.getOwnPropertyNames(headers)).toEqual(["__proto__", "constructor"]);
    expect(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value).toBe("x");
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
  });
});
