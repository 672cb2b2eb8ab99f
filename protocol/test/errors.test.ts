/**
 * The error table (docs/PROTOCOL.md §8): numbers travel in ERROR frames, names in HTTP
 * bodies, and every client decides whether to retry from `retriable`. The table below is
 * transcribed from §8 so that a change to a code, its retriability or its HTTP status shows
 * up here as a deliberate edit of the spec.
 */
import { describe, expect, it } from "vitest";
import {
  decodeFrame,
  ErrorCode,
  ErrorInfo,
  type ErrorName,
  errorFrame,
  errorName,
  FrameType,
  isRetriable,
  KaitenError,
} from "../src/index.ts";

/** §8: code, name, retriable, HTTP status. */
const SPEC_TABLE: Array<[number, ErrorName, boolean, number]> = [
  [1, "MALFORMED_FRAME", false, 400],
  [2, "UNKNOWN_FRAME_TYPE", false, 400],
  [3, "FRAME_TOO_LARGE", false, 413],
  [4, "RECORD_TOO_LARGE", false, 413],
  [5, "INVALID_BATCH", false, 400],
  [6, "INVALID_TOPIC", false, 400],
  [7, "UNKNOWN_TOPIC", false, 404],
  [8, "INVALID_PARTITION", false, 400],
  [9, "INVALID_OFFSET", false, 400],
  [10, "OFFSET_OUT_OF_RANGE", false, 416],
  [11, "EPOCH_MISMATCH", false, 409],
  [12, "PRODUCER_FENCED", false, 409],
  [13, "SEQUENCE_GAP", false, 409],
  [14, "DUPLICATE_TOO_OLD", false, 409],
  [15, "ALREADY_SUBSCRIBED", false, 409],
  [16, "NOT_SUBSCRIBED", false, 409],
  [17, "TOPIC_EXISTS", false, 409],
  [18, "INVALID_REQUEST", false, 400],
  [19, "THROTTLED", true, 429],
  [20, "INTERNAL", true, 500],
  [21, "TOO_MANY_SUBSCRIBERS", true, 503],
  [22, "TOPIC_DELETED", false, 410],
  [23, "UNSUPPORTED_VERSION", false, 400],
  [24, "NOT_FOUND", false, 404],
  [25, "UNAUTHENTICATED", false, 401],
  [26, "FORBIDDEN", false, 403],
  [27, "TOKEN_EXPIRED", false, 401],
  [28, "AUTH_NOT_CONFIGURED", false, 503],
  [29, "LIMIT_EXCEEDED", false, 403],
  [30, "UNKNOWN_MEMBER", false, 409],
  [31, "FENCED", false, 409],
  [32, "GROUP_NOT_EMPTY", false, 409],
];

describe("§8 errors", () => {
  it("defines exactly the codes of the spec's table", () => {
    expect(Object.entries(ErrorCode)).toStrictEqual(SPEC_TABLE.map(([code, name]) => [name, code]));
  });

  it.each(SPEC_TABLE)(
    "gives code %i the name %s, retriable %s, HTTP %i",
    (code, name, retriable, http) => {
      expect(ErrorCode[name]).toBe(code);
      expect(errorName(code)).toBe(name);
      expect(ErrorInfo[name]).toStrictEqual({ retriable, http });
      expect(isRetriable(name)).toBe(retriable);
      expect(new KaitenError(name, "m").retriable).toBe(retriable);
    },
  );

  it.each([0, 33, 0xffff])("knows no error named by the number %i", (code) => {
    expect(errorName(code)).toBeUndefined();
  });

  it("carries the code, message and detail of a KaitenError into an ERROR frame", () => {
    // The detail is code-specific: here the earliest offset of OFFSET_OUT_OF_RANGE.
    const e = new KaitenError("OFFSET_OUT_OF_RANGE", "offset 5 is gone", 17);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe("KaitenError");
    expect(decodeFrame(errorFrame(9, e))).toStrictEqual({
      type: FrameType.Error,
      requestId: 9,
      code: "OFFSET_OUT_OF_RANGE",
      retriable: false,
      detail: 17,
      message: "offset 5 is gone",
    });
  });

  it("refuses an ERROR frame with a code the table does not have as MALFORMED_FRAME", () => {
    // ERROR: type, requestId, code u16 = 99, retriable, detail u64, empty message.
    const frame = new Uint8Array([0x84, 0, 0, 0, 1, 0, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => decodeFrame(frame)).toThrow(expect.objectContaining({ code: "MALFORMED_FRAME" }));
  });

  it("refuses a frame type that does not exist as UNKNOWN_FRAME_TYPE", () => {
    for (const type of [0x00, 0x06, 0x7f, 0x80, 0x87, 0xff]) {
      expect(() => decodeFrame(new Uint8Array([type, 0, 0, 0, 0]))).toThrow(
        expect.objectContaining({ code: "UNKNOWN_FRAME_TYPE" }),
      );
    }
  });
});
