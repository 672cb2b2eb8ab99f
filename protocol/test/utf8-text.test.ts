/**
 * Text fields (docs/PROTOCOL.md §3.3, used by §4 headers and §5 producer ids and error
 * messages): strings are UTF-8, invalid UTF-8 is a decoding error, and any well-formed string
 * comes back exactly, including one that starts with U+FEFF. A default TextDecoder strips a
 * leading U+FEFF as a byte-order mark, which made "\uFEFFp" decode as the producer id "p".
 */
import { describe, expect, it } from "vitest";
import {
  decodeChunk,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  KaitenError,
  validateProducedBatch,
  type WireRecord,
} from "../src/index.ts";
import { hexToBytes } from "./support/fixtures.ts";

const BOM = "\uFEFF";

function malformedCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(KaitenError);
    return (e as KaitenError).code;
  }
}

describe("§3.3 UTF-8 text fields", () => {
  it("keeps a leading U+FEFF in a producer id, so distinct ids stay distinct", () => {
    const frame = {
      type: FrameType.Produce,
      requestId: 1,
      producerId: `${BOM}p`,
      producerEpoch: 0,
      sequence: 0,
      batch: new Uint8Array(0),
    } as const;
    expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame);
  });

  it("keeps a leading U+FEFF in an error message", () => {
    const frame = {
      type: FrameType.Error,
      requestId: 1,
      code: "INTERNAL",
      retriable: true,
      detail: 0,
      message: `${BOM}${BOM}oops`,
    } as const;
    expect(decodeFrame(encodeFrame(frame))).toStrictEqual(frame);
  });

  it("keeps a leading U+FEFF in header keys and values", () => {
    const record: WireRecord = {
      key: null,
      value: new Uint8Array(0),
      format: 0,
      headers: [[BOM, `${BOM}v`]],
      timestamp: 0,
    };
    expect(decodeChunk(encodeBatch([record]))).toStrictEqual([{ ...record, offset: 0 }]);
  });

  it.each([
    ["a lone continuation byte", "80"],
    ["a truncated two-byte sequence", "c3"],
    ["an overlong encoding of '/'", "c0af"],
    ["an encoded surrogate (U+D800)", "eda080"],
    ["a code point above U+10FFFF", "f4908080"],
    ["the byte 0xff", "ff"],
  ])("rejects %s in a producer id as MALFORMED_FRAME", (_why, bad) => {
    const id = hexToBytes(bad);
    // PRODUCE: type, requestId, producer id length + bytes, epoch, sequence, (empty batch).
    const frame = new Uint8Array([1, 0, 0, 0, 1, id.length, ...id, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(malformedCode(() => decodeFrame(frame))).toBe("MALFORMED_FRAME");
  });

  it("rejects invalid UTF-8 in a header, both on validation and on decoding", () => {
    const batch = encodeBatch([
      { key: null, value: new Uint8Array(0), format: 0, headers: [["k", "v"]], timestamp: 0 },
    ]);
    // The header value "v" is the last byte of the batch; 0xff is never valid UTF-8.
    batch[batch.length - 1] = 0xff;
    expect(malformedCode(() => validateProducedBatch(batch, 1000))).toBe("MALFORMED_FRAME");
    expect(malformedCode(() => decodeChunk(batch))).toBe("MALFORMED_FRAME");
  });
});
