/**
 * The hard limits of protocol v1 (docs/PROTOCOL.md §7), each checked on both sides of its
 * boundary: the largest legal value is accepted and one more is refused with the error code
 * §7 names for it. Every buffer a broker allocates while decoding is bounded by these.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeChunk,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  errorFrame,
  FrameType,
  filterChunk,
  isValidTopicName,
  KaitenError,
  Limits,
  RECORDS_HEADER_BYTES,
  validateProducedBatch,
  type WireRecord,
} from "../src/index.ts";
import { text } from "./support/arbitraries.ts";

const utf8 = new TextEncoder();

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(KaitenError);
    return (e as KaitenError).code;
  }
}

function record(overrides: Partial<WireRecord> = {}): WireRecord {
  return {
    key: null,
    value: new Uint8Array(0),
    format: 0,
    headers: [],
    timestamp: 0,
    ...overrides,
  };
}

/** A PRODUCE frame built by hand, so it can break limits the encoder would not let through. */
function produceBytes(producerId: Uint8Array, batch: Uint8Array): Uint8Array {
  return new Uint8Array([
    1,
    0,
    0,
    0,
    1,
    producerId.length,
    ...producerId,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    ...batch,
  ]);
}

/** A SUBSCRIBE frame with a key filter of `keyLength` bytes. */
function subscribeBytes(keyLength: number): Uint8Array {
  // type, requestId 1, from 0, position 0, epoch 0, credit 0, then keyLength u16 and key.
  const head = [2, ...[0, 0, 0, 1], 0, ...new Array(8).fill(0), ...[0, 0, 0, 0], ...[0, 0, 0, 0]];
  const frame = new Uint8Array(head.length + 2 + keyLength);
  frame.set(head);
  new DataView(frame.buffer).setUint16(head.length, keyLength);
  return frame;
}

describe("§7 limits", () => {
  describe("client frame: 1,048,576 bytes (FRAME_TOO_LARGE)", () => {
    // PRODUCE header: type, requestId, id length, epoch, sequence (no producer id here).
    const header = 1 + 4 + 1 + 4 + 4;

    it("accepts a PRODUCE frame of exactly 1,048,576 bytes", () => {
      const frame = produceBytes(new Uint8Array(0), new Uint8Array(Limits.maxFrameBytes - header));
      expect(frame.length).toBe(Limits.maxFrameBytes);
      expect(decodeFrame(frame).type).toBe(FrameType.Produce);
    });

    it("refuses a PRODUCE frame of 1,048,577 bytes", () => {
      const frame = produceBytes(
        new Uint8Array(0),
        new Uint8Array(Limits.maxFrameBytes - header + 1),
      );
      expect(codeOf(() => decodeFrame(frame))).toBe("FRAME_TOO_LARGE");
    });

    it("refuses any message over the largest frame a broker ever sends, before reading it", () => {
      // A RECORDS frame is at most its header, a page and one more stored chunk (§7); nothing
      // longer is read at all, whatever its type byte says.
      const limit = Limits.maxFrameBytes + RECORDS_HEADER_BYTES + Limits.maxChunkBytes;
      const frame = new Uint8Array(limit + 1);
      frame[0] = FrameType.Records;
      expect(codeOf(() => decodeFrame(frame))).toBe("FRAME_TOO_LARGE");
      expect(decodeFrame(frame.subarray(0, limit)).type).toBe(FrameType.Records);
    });
  });

  describe("producer id: 64 bytes (MALFORMED_FRAME)", () => {
    it("accepts a producer id of exactly 64 UTF-8 bytes", () => {
      const id = "é".repeat(32); // 64 bytes, 32 characters: the limit counts bytes
      const frame = encodeFrame({
        type: FrameType.Produce,
        requestId: 1,
        producerId: id,
        producerEpoch: 0,
        sequence: 0,
        batch: new Uint8Array(0),
      });
      expect(decodeFrame(frame)).toMatchObject({ producerId: id });
    });

    it("refuses a producer id of 65 bytes", () => {
      const frame = produceBytes(utf8.encode("p".repeat(65)), new Uint8Array(0));
      expect(codeOf(() => decodeFrame(frame))).toBe("MALFORMED_FRAME");
    });
  });

  describe("key: 4,096 bytes (MALFORMED_FRAME)", () => {
    it("accepts a key filter of exactly 4,096 bytes and refuses one of 4,097", () => {
      expect(decodeFrame(subscribeBytes(Limits.maxKeyBytes))).toMatchObject({
        key: new Uint8Array(Limits.maxKeyBytes),
      });
      expect(codeOf(() => decodeFrame(subscribeBytes(Limits.maxKeyBytes + 1)))).toBe(
        "MALFORMED_FRAME",
      );
    });

    it("accepts a record key of exactly 4,096 bytes and refuses one of 4,097", () => {
      const ok = encodeBatch([record({ key: new Uint8Array(Limits.maxKeyBytes) })]);
      expect(validateProducedBatch(ok, Limits.maxRecordBytes).count).toBe(1);
      expect(decodeChunk(ok)).toHaveLength(1);
      const tooLong = encodeBatch([record({ key: new Uint8Array(Limits.maxKeyBytes + 1) })]);
      expect(codeOf(() => validateProducedBatch(tooLong, Limits.maxRecordBytes))).toBe(
        "MALFORMED_FRAME",
      );
      expect(codeOf(() => decodeChunk(tooLong))).toBe("MALFORMED_FRAME");
      expect(codeOf(() => filterChunk(tooLong, () => true))).toBe("MALFORMED_FRAME");
    });
  });

  describe("headers per record: 64 (MALFORMED_FRAME)", () => {
    const headers = (n: number) =>
      Array.from({ length: n }, (_, i): [string, string] => [`h${i}`, ""]);

    it("accepts a record with exactly 64 headers", () => {
      const batch = encodeBatch([record({ headers: headers(64) })]);
      expect(validateProducedBatch(batch, Limits.maxRecordBytes).count).toBe(1);
      expect(decodeChunk(batch)[0]?.headers).toHaveLength(64);
    });

    it("refuses a record with 65 headers", () => {
      const batch = encodeBatch([record({ headers: headers(65) })]);
      expect(codeOf(() => validateProducedBatch(batch, Limits.maxRecordBytes))).toBe(
        "MALFORMED_FRAME",
      );
      expect(codeOf(() => decodeChunk(batch))).toBe("MALFORMED_FRAME");
    });
  });

  describe("records per batch: 10,000 (INVALID_BATCH)", () => {
    it("accepts a batch of exactly 10,000 records", () => {
      const batch = encodeBatch(Array.from({ length: Limits.maxBatchRecords }, () => record()));
      expect(validateProducedBatch(batch, Limits.maxRecordBytes).count).toBe(10_000);
    });

    it("refuses a batch of 10,001 records", () => {
      const batch = encodeBatch(Array.from({ length: Limits.maxBatchRecords + 1 }, () => record()));
      expect(codeOf(() => validateProducedBatch(batch, Limits.maxRecordBytes))).toBe(
        "INVALID_BATCH",
      );
    });
  });

  describe("record size: key + value + headers, at most the topic's maxRecordBytes", () => {
    // 10 key bytes + 2 header bytes ("k", "v") + the value = exactly the limit.
    const sized = (total: number) =>
      record({ key: new Uint8Array(10), headers: [["k", "v"]], value: new Uint8Array(total - 12) });

    it("accepts a record of exactly 1,000,000 bytes", () => {
      const batch = encodeBatch([sized(Limits.maxRecordBytes)]);
      expect(validateProducedBatch(batch, Limits.maxRecordBytes).count).toBe(1);
    });

    it("refuses a record of 1,000,001 bytes as RECORD_TOO_LARGE", () => {
      const batch = encodeBatch([sized(Limits.maxRecordBytes + 1)]);
      expect(codeOf(() => validateProducedBatch(batch, Limits.maxRecordBytes))).toBe(
        "RECORD_TOO_LARGE",
      );
    });

    it("applies a topic's smaller limit the same way", () => {
      expect(validateProducedBatch(encodeBatch([sized(100)]), 100).count).toBe(1);
      expect(codeOf(() => validateProducedBatch(encodeBatch([sized(101)]), 100))).toBe(
        "RECORD_TOO_LARGE",
      );
    });
  });

  describe("error message: 1,024 bytes", () => {
    it("truncates a longer message to at most 1,024 bytes, keeping a prefix of it", () => {
      for (const message of [
        "x".repeat(5000),
        "日".repeat(1000),
        "😀".repeat(700),
        `a${"😀".repeat(300)}`,
      ]) {
        const frame = decodeFrame(errorFrame(1, new KaitenError("INTERNAL", message)));
        if (frame.type !== FrameType.Error) throw new Error("not an ERROR frame");
        expect(utf8.encode(frame.message).length).toBeLessThanOrEqual(Limits.maxErrorMessageBytes);
        expect(frame.message.length).toBeGreaterThan(0);
        expect(message.startsWith(frame.message)).toBe(true);
      }
    });

    it("truncates any message to a prefix of at most 1,024 bytes", () => {
      fc.assert(
        fc.property(text(700), (message) => {
          const frame = decodeFrame(errorFrame(1, new KaitenError("INTERNAL", message)));
          if (frame.type !== FrameType.Error) throw new Error("not an ERROR frame");
          expect(utf8.encode(frame.message).length).toBeLessThanOrEqual(
            Limits.maxErrorMessageBytes,
          );
          expect(message.startsWith(frame.message)).toBe(true);
        }),
        { numRuns: 300 },
      );
    });

    it("keeps a message of exactly 1,024 bytes whole", () => {
      const message = "é".repeat(512);
      const frame = decodeFrame(errorFrame(1, new KaitenError("INTERNAL", message)));
      expect(frame).toMatchObject({ message });
    });
  });

  describe("topic names: [A-Za-z0-9._-]{1,249}, not . or .. (INVALID_TOPIC)", () => {
    it.each(["a", "orders", "orders.v2", "my_topic-1", "..a", "x".repeat(249)])(
      "accepts %j",
      (name) => {
        expect(isValidTopicName(name)).toBe(true);
      },
    );

    it.each(["", ".", "..", "x".repeat(250), "a b", "a/b", "é", "topic\n"])(
      "refuses %j",
      (name) => {
        expect(isValidTopicName(name)).toBe(false);
      },
    );
  });
});
