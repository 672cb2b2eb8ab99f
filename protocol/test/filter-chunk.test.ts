/**
 * filterChunk (docs/PROTOCOL.md §4): how a read starts in the middle of a stored chunk and
 * how key-filtered subscriptions drop records, without re-encoding the records it keeps.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeChunk, filterChunk, type StoredRecord } from "../src/index.ts";
import { chunk } from "./support/arbitraries.ts";

const sameKey = (a: Uint8Array | null, b: Uint8Array | null) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((x, i) => x === b[i]);

describe("§4 filterChunk", () => {
  it("keeps exactly the records the predicate holds for, in order", () => {
    fc.assert(
      fc.property(chunk, fc.infiniteStream(fc.boolean()), ({ bytes, stored }, coins) => {
        // An arbitrary predicate: one coin per record, looked up by offset.
        const keepByOffset = new Map(stored.map((r) => [r.offset, coins.next().value as boolean]));
        const keep = (offset: number) => keepByOffset.get(offset) === true;
        expect(decodeChunk(filterChunk(bytes, keep))).toStrictEqual(
          stored.filter((r) => keep(r.offset)),
        );
      }),
      { numRuns: 150 },
    );
  });

  it("keeps the records from any offset onwards, as a read starting mid-chunk does", () => {
    fc.assert(
      fc.property(chunk, fc.nat(), ({ bytes, stored }, pick) => {
        const from = (stored[pick % stored.length] as StoredRecord).offset;
        expect(decodeChunk(filterChunk(bytes, (offset) => offset >= from))).toStrictEqual(
          stored.filter((r) => r.offset >= from),
        );
      }),
      { numRuns: 100 },
    );
  });

  it("keeps exactly the records with a given key, as a key-filtered subscription does", () => {
    fc.assert(
      fc.property(chunk, fc.nat(), ({ bytes, stored }, pick) => {
        const key = (stored[pick % stored.length] as StoredRecord).key;
        expect(decodeChunk(filterChunk(bytes, (_, k) => sameKey(k, key)))).toStrictEqual(
          stored.filter((r) => sameKey(r.key, key)),
        );
      }),
      { numRuns: 100 },
    );
  });

  it("asks the predicate about every record once, in offset order, with its key", () => {
    fc.assert(
      fc.property(chunk, ({ bytes, stored }) => {
        const asked: Array<[number, Uint8Array | null]> = [];
        filterChunk(bytes, (offset, key) => {
          asked.push([offset, key === null ? null : key.slice()]);
          return false;
        });
        expect(asked).toStrictEqual(stored.map((r) => [r.offset, r.key]));
      }),
      { numRuns: 100 },
    );
  });

  it("returns the very same Uint8Array when the predicate keeps everything", () => {
    // The common case (a subscriber reading whole chunks) must copy nothing.
    fc.assert(
      fc.property(chunk, ({ bytes }) => {
        expect(filterChunk(bytes, () => true)).toBe(bytes);
      }),
      { numRuns: 100 },
    );
  });

  it("returns an empty chunk when the predicate keeps nothing", () => {
    fc.assert(
      fc.property(chunk, ({ bytes }) => {
        const none = filterChunk(bytes, () => false);
        expect(none.length).toBe(0);
        expect(decodeChunk(none)).toStrictEqual([]);
      }),
      { numRuns: 100 },
    );
  });
});
