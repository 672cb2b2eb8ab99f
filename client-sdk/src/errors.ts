/**
 * Errors as data (STYLE.md habit 7): every error the SDK surfaces has a machine-readable
 * `code` and a `retriable` flag. Broker codes are those of docs/PROTOCOL.md §8; the SDK adds
 * a few of its own for conditions that never reach the wire.
 */
import { type ErrorName, errorName } from "@kaiten/protocol";

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

export const closedError = (): KaitenClientError =>
  new KaitenClientError(ClientCode.Closed, "closed");
