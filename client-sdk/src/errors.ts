/**
 * Errors as data (STYLE.md habit 7): every error the SDK surfaces has a machine-readable
 * `code` and a `retriable` flag. Broker codes are those of docs/PROTOCOL.md §8; the SDK adds
 * a few of its own for conditions that never reach the wire.
 */
import type { ErrorName } from "@kaiten/protocol";

/**
 * The broker's retriable codes (§8), and the SDK's own. Kept here rather than bundling the
 * protocol's whole ErrorInfo table (statuses of every code) into the 8 KiB entry;
 * test/errors.test.ts checks it against that table.
 */
export const RETRIABLE: ReadonlySet<string> = new Set([
  "THROTTLED",
  "INTERNAL",
  "TOO_MANY_SUBSCRIBERS",
  "CONNECTION_LOST",
]);

/**
 * The broker's error names by code (§8), from 1: a list in one string costs the entry less
 * than the protocol's table and its reverse map; test/errors.test.ts checks it against that table.
 */
// Pure: an entry that never names an error (/group) drops the list.
const NAMES = /* @__PURE__ */ (
  "MALFORMED_FRAME UNKNOWN_FRAME_TYPE FRAME_TOO_LARGE RECORD_TOO_LARGE INVALID_BATCH INVALID_TOPIC " +
  "UNKNOWN_TOPIC INVALID_PARTITION INVALID_OFFSET OFFSET_OUT_OF_RANGE EPOCH_MISMATCH PRODUCER_FENCED " +
  "SEQUENCE_GAP DUPLICATE_TOO_OLD ALREADY_SUBSCRIBED NOT_SUBSCRIBED TOPIC_EXISTS INVALID_REQUEST " +
  "THROTTLED INTERNAL TOO_MANY_SUBSCRIBERS TOPIC_DELETED UNSUPPORTED_VERSION NOT_FOUND UNAUTHENTICATED " +
  "FORBIDDEN TOKEN_EXPIRED AUTH_NOT_CONFIGURED LIMIT_EXCEEDED UNKNOWN_MEMBER FENCED GROUP_NOT_EMPTY"
).split(" ");

/** The name of error `code` (§8); undefined for a code this SDK does not know. */
export const errorName = (code: number): ErrorName | undefined => NAMES[code - 1] as ErrorName;

/** Codes raised by the SDK itself. */
export const ClientCode = {
  /** The client or subscription was closed before the operation completed. */
  Closed: "CLIENT_CLOSED",
  /** A record the SDK cannot encode: a key or header of the wrong type, a value the serde refuses. */
  InvalidRecord: "INVALID_RECORD",
  /** The connection dropped or could not be made; the SDK retries on its own. */
  Connection: "CONNECTION_LOST",
} as const;
export type ClientCode = (typeof ClientCode)[keyof typeof ClientCode];

export type ErrorCode = ErrorName | ClientCode;

export class KaitenClientError extends Error {
  override readonly name = "KaitenError";

  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Whether the same operation may succeed later unchanged. */
    readonly retriable = RETRIABLE.has(code),
    /** Code-specific number from the broker: earliest offset, current epoch, expected sequence. */
    readonly detail = 0,
  ) {
    super(message);
  }
}

/** An ERROR frame as an error. */
export const fromFrame = (f: {
  code: ErrorName;
  message: string;
  retriable: boolean;
  detail: number;
}) => new KaitenClientError(f.code, f.message, f.retriable, f.detail);

/** The error a close code carries: 4000 + n is error n of §8 (§9); anything else is a drop. */
export function closeError(code: number, reason: string): KaitenClientError {
  const name = errorName(code - 4000);
  return new KaitenClientError(name ?? ClientCode.Connection, reason || `closed (${code})`);
}

/** A dropped connection (retriable), with what went wrong. */
export const lostError = (cause: unknown): KaitenClientError =>
  new KaitenClientError(ClientCode.Connection, String(cause));

export const closedError = (): KaitenClientError =>
  new KaitenClientError(ClientCode.Closed, "closed");
