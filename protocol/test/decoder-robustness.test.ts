/**
 * Decoders face bytes from the network and from storage, so none of them may fail in any way
 * other than a KaitenError (docs/PROTOCOL.md §8): a RangeError or TypeError escaping
 * decodeFrame would drop a socket without an ERROR frame, or crash a partition's read path.
 * Inputs: every truncation and split of the golden fixtures (§5, §4), random splits and
 * random mutations of arbitrary valid frames and batches, and uniformly random bytes.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeChunk,
  decodeFrame,
  type ErrorName,
  encodeBatch,
  encodeFrame,
  FrameType,
  filterChunk,
  KaitenError,
  Limits,
  validateProducedBatch,
} from "../src/index.ts";
import { anyFrame, chunk, records } from "./support/arbitraries.ts";
import { batchFixtures, frameFixtures, hexToBytes } from "./support/fixtures.ts";

/** The codes each decoder may fail with. */
const FRAME_ERRORS: ErrorName[] = ["MALFORMED_FRAME", "UNKNOWN_FRAME_TYPE", "FRAME_TOO_LARGE"];
const BATCH_ERRORS: ErrorName[] = ["MALFORMED_FRAME", "INVALID_BATCH", "RECORD_TOO_LARGE"];

/** Runs `decode`; it must return normally or throw a KaitenError with one of `codes`. */
function returnsOrThrowsKaiten(decode: () => unknown, codes: readonly ErrorName[]): boolean {
  try {
    decode();
    return true;
  } catch (e) {
    // A plain check rather than expect(): this runs tens of thousands of times.
    if (e instanceof KaitenError && codes.includes(e.code)) return false;
    throw new Error(`expected a KaitenError (${codes.join(", ")}), got: ${String(e)}`, {
      cause: e,
    });
  }
}

/** Every way the chunk decoders can be fed the same bytes. */
function feedChunkDecoders(bytes: Uint8Array): void {
  returnsOrThrowsKaiten(() => decodeChunk(bytes), BATCH_ERRORS);
  returnsOrThrowsKaiten(() => filterChunk(bytes, (offset) => offset % 2 === 0), BATCH_ERRORS);
  returnsOrThrowsKaiten(() => validateProducedBatch(bytes, Limits.maxRecordBytes), BATCH_ERRORS);
  returnsOrThrowsKaiten(() => validateProducedBatch(bytes, 3), BATCH_ERRORS);
}

interface Mutation {
  edits: Array<[number, number]>;
  cut: number | undefined;
  append: Uint8Array;
}

/** Random edits: overwrite some bytes, then maybe cut the end off or append junk. */
const mutation: fc.Arbitrary<Mutation> = fc.record({
  edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
  cut: fc.option(fc.nat(), { nil: undefined }),
  append: fc.uint8Array({ maxLength: 4 }),
});

function mutate(bytes: Uint8Array, m: Mutation): Uint8Array {
  let out = bytes.slice();
  if (out.length > 0) for (const [at, b] of m.edits) out[at % out.length] = b;
  if (m.cut !== undefined) out = out.subarray(0, m.cut % (out.length + 1));
  const joined = new Uint8Array(out.length + m.append.length);
  joined.set(out, 0);
  joined.set(m.append, out.length);
  return joined;
}

/** Frames whose last field is "the rest of the frame"; a prefix of them may still decode. */
const OPEN_ENDED = new Set<number>([FrameType.Produce, FrameType.Records]);

describe("§5 decodeFrame only ever fails with a KaitenError", () => {
  describe.each(frameFixtures)("every piece of the $name fixture", ({ hex, frame }) => {
    const bytes = hexToBytes(hex);

    it("fails every proper prefix with MALFORMED_FRAME, unless the frame ends open-ended", () => {
      for (let n = 0; n < bytes.length; n++) {
        const ok = returnsOrThrowsKaiten(() => decodeFrame(bytes.slice(0, n)), ["MALFORMED_FRAME"]);
        // Only PRODUCE and RECORDS end with "the rest of the frame", so only a cut inside
        // that last part can still decode; a cut anywhere else is always malformed.
        if (ok) expect(OPEN_ENDED.has(frame.type)).toBe(true);
      }
    });

    it("rejects every suffix and every middle piece or returns a frame", () => {
      for (let from = 1; from < bytes.length; from++) {
        for (let to = from; to <= bytes.length; to++) {
          returnsOrThrowsKaiten(() => decodeFrame(bytes.slice(from, to)), FRAME_ERRORS);
        }
      }
    });

    it("fails with a trailing byte appended, since a frame must fill its message", () => {
      const longer = new Uint8Array([...bytes, 0]);
      // Open-ended frames absorb the byte into their batch; the others must refuse it.
      const ok = returnsOrThrowsKaiten(() => decodeFrame(longer), ["MALFORMED_FRAME"]);
      expect(ok).toBe(OPEN_ENDED.has(frame.type));
    });
  });

  it("survives both halves of any split of any valid frame", () => {
    fc.assert(
      fc.property(anyFrame, fc.nat(), (frame, at) => {
        const bytes = encodeFrame(frame);
        const cut = at % (bytes.length + 1);
        returnsOrThrowsKaiten(() => decodeFrame(bytes.subarray(0, cut)), FRAME_ERRORS);
        returnsOrThrowsKaiten(() => decodeFrame(bytes.subarray(cut)), FRAME_ERRORS);
      }),
      { numRuns: 1000 },
    );
  });

  it("survives uniformly random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => {
        returnsOrThrowsKaiten(() => decodeFrame(bytes), FRAME_ERRORS);
      }),
      { numRuns: 5000 },
    );
  });

  it("survives random bytes after each valid type byte", () => {
    // Uniform bytes mostly stop at an unknown type; this drives them into every body decoder.
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(FrameType)),
        fc.uint8Array({ maxLength: 96 }),
        (type, body) => {
          returnsOrThrowsKaiten(() => decodeFrame(new Uint8Array([type, ...body])), FRAME_ERRORS);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it("survives random mutations of valid frames", () => {
    fc.assert(
      fc.property(anyFrame, mutation, (frame, m) => {
        returnsOrThrowsKaiten(() => decodeFrame(mutate(encodeFrame(frame), m)), FRAME_ERRORS);
      }),
      { numRuns: 2000 },
    );
  });

  it("re-encodes whatever it accepts to the same bytes, so a decoded frame is canonical", () => {
    // Accepting two encodings of one frame would let a broker and a client disagree about
    // bytes they both consider valid. The one exception is an ERROR message longer than the
    // 1024 bytes of §7, which decoding tolerates and encoding truncates.
    fc.assert(
      fc.property(anyFrame, mutation, (frame, m) => {
        const bytes = mutate(encodeFrame(frame), m);
        let decoded: ReturnType<typeof decodeFrame>;
        try {
          decoded = decodeFrame(bytes);
        } catch {
          return;
        }
        if (decoded.type === FrameType.Error && bytes.length > 18 + Limits.maxErrorMessageBytes) {
          return;
        }
        expect(encodeFrame(decoded)).toStrictEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("§4 chunk and batch decoders only ever fail with a KaitenError", () => {
  it.each(batchFixtures)("survives every prefix and suffix of the $name fixture", ({ hex }) => {
    const bytes = hexToBytes(hex);
    for (let n = 0; n <= bytes.length; n++) {
      feedChunkDecoders(bytes.slice(0, n));
      feedChunkDecoders(bytes.slice(n));
    }
  });

  it.each(batchFixtures)("rejects every prefix of the $name fixture that cuts a batch", (f) => {
    // A cut batch must never be read as a shorter valid one (recordsLength guards it); only a
    // cut between the batches of a chunk leaves a valid, shorter chunk.
    const bytes = hexToBytes(f.hex);
    const boundaries = new Set<number>([0]);
    let end = 0;
    for (const b of f.batches) {
      end += encodeBatch(b.records, b.baseOffset).length;
      boundaries.add(end);
    }
    for (let n = 1; n < bytes.length; n++) {
      const prefix = bytes.slice(0, n);
      if (boundaries.has(n)) expect(() => decodeChunk(prefix)).not.toThrow();
      else expect(() => decodeChunk(prefix)).toThrow(KaitenError);
      expect(() => validateProducedBatch(prefix, 1e6)).toThrow(KaitenError);
    }
  });

  it("survives uniformly random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => feedChunkDecoders(bytes)),
      { numRuns: 3000 },
    );
  });

  it("survives random records behind a well-formed batch header", () => {
    // Random bytes rarely get past the header; this makes the record decoders read them.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 53 - 1 }),
        fc.integer({ min: 0, max: 300 }),
        fc.uint8Array({ maxLength: 96 }),
        (baseTimestamp, count, body) => {
          const bytes = new Uint8Array(24 + body.length);
          const view = new DataView(bytes.buffer);
          view.setUint32(8, Math.floor(baseTimestamp / 2 ** 32));
          view.setUint32(12, baseTimestamp % 2 ** 32);
          view.setUint32(16, count);
          view.setUint32(20, body.length);
          bytes.set(body, 24);
          feedChunkDecoders(bytes);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("survives random mutations of valid batches and chunks", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          records(5).map((rs) => encodeBatch(rs)),
          chunk.map((c) => c.bytes),
        ),
        mutation,
        (bytes, m) => feedChunkDecoders(mutate(bytes, m)),
      ),
      { numRuns: 1500 },
    );
  });
});
