/**
 * The one table of error codes (docs/PROTOCOL.md §8). Numeric codes travel in ERROR frames;
 * names travel in HTTP error bodies. `retriable` says whether sending the same request again
 * may succeed without the client changing it.
 */
export const ErrorCode = {
  MALFORMED_FRAME: 1,
  UNKNOWN_FRAME_TYPE: 2,
  FRAME_TOO_LARGE: 3,
  RECORD_TOO_LARGE: 4,
  INVALID_BATCH: 5,
  INVALID_TOPIC: 6,
  UNKNOWN_TOPIC: 7,
  INVALID_PARTITION: 8,
  INVALID_OFFSET: 9,
  OFFSET_OUT_OF_RANGE: 10,
  EPOCH_MISMATCH: 11,
  PRODUCER_FENCED: 12,
  SEQUENCE_GAP: 13,
  DUPLICATE_TOO_OLD: 14,
  ALREADY_SUBSCRIBED: 15,
  NOT_SUBSCRIBED: 16,
  TOPIC_EXISTS: 17,
  INVALID_REQUEST: 18,
  THROTTLED: 19,
  INTERNAL: 20,
  TOO_MANY_SUBSCRIBERS: 21,
  TOPIC_DELETED: 22,
  UNSUPPORTED_VERSION: 23,
  NOT_FOUND: 24,
  UNAUTHENTICATED: 25,
  FORBIDDEN: 26,
  TOKEN_EXPIRED: 27,
  AUTH_NOT_CONFIGURED: 28,
  LIMIT_EXCEEDED: 29,
  UNKNOWN_MEMBER: 30,
  FENCED: 31,
  GROUP_NOT_EMPTY: 32,
} as const;

export type ErrorName = keyof typeof ErrorCode;
export type ErrorNumber = (typeof ErrorCode)[ErrorName];

interface ErrorInfo {
  readonly retriable: boolean;
  readonly http: number;
}

/** Retriability and HTTP status of each code; kept beside the codes so they cannot drift. */
export const ErrorInfo: { readonly [K in ErrorName]: ErrorInfo } = {
  MALFORMED_FRAME: { retriable: false, http: 400 },
  UNKNOWN_FRAME_TYPE: { retriable: false, http: 400 },
  FRAME_TOO_LARGE: { retriable: false, http: 413 },
  RECORD_TOO_LARGE: { retriable: false, http: 413 },
  INVALID_BATCH: { retriable: false, http: 400 },
  INVALID_TOPIC: { retriable: false, http: 400 },
  UNKNOWN_TOPIC: { retriable: false, http: 404 },
  INVALID_PARTITION: { retriable: false, http: 400 },
  INVALID_OFFSET: { retriable: false, http: 400 },
  OFFSET_OUT_OF_RANGE: { retriable: false, http: 416 },
  EPOCH_MISMATCH: { retriable: false, http: 409 },
  PRODUCER_FENCED: { retriable: false, http: 409 },
  SEQUENCE_GAP: { retriable: false, http: 409 },
  DUPLICATE_TOO_OLD: { retriable: false, http: 409 },
  ALREADY_SUBSCRIBED: { retriable: false, http: 409 },
  NOT_SUBSCRIBED: { retriable: false, http: 409 },
  TOPIC_EXISTS: { retriable: false, http: 409 },
  INVALID_REQUEST: { retriable: false, http: 400 },
  THROTTLED: { retriable: true, http: 429 },
  INTERNAL: { retriable: true, http: 500 },
  TOO_MANY_SUBSCRIBERS: { retriable: true, http: 503 },
  TOPIC_DELETED: { retriable: false, http: 410 },
  UNSUPPORTED_VERSION: { retriable: false, http: 400 },
  NOT_FOUND: { retriable: false, http: 404 },
  UNAUTHENTICATED: { retriable: false, http: 401 },
  FORBIDDEN: { retriable: false, http: 403 },
  TOKEN_EXPIRED: { retriable: false, http: 401 },
  AUTH_NOT_CONFIGURED: { retriable: false, http: 503 },
  LIMIT_EXCEEDED: { retriable: false, http: 403 },
  UNKNOWN_MEMBER: { retriable: false, http: 409 },
  FENCED: { retriable: false, http: 409 },
  GROUP_NOT_EMPTY: { retriable: false, http: 409 },
};

const NAMES = new Map<number, ErrorName>(
  (Object.keys(ErrorCode) as ErrorName[]).map((name) => [ErrorCode[name], name]),
);

export function errorName(code: number): ErrorName | undefined {
  return NAMES.get(code);
}

/** An error as data: what the broker sends and what clients surface. */
export class KaitenError extends Error {
  override readonly name = "KaitenError";
  readonly code: ErrorName;
  readonly retriable: boolean;
  /** Code-specific number: earliest offset, current epoch, expected sequence (§8). */
  readonly detail: number;

  constructor(code: ErrorName, message: string, detail = 0) {
    super(message);
    this.code = code;
    this.retriable = ErrorInfo[code].retriable;
    this.detail = detail;
  }
}
