/**
 * The Durable Streams protocol on a Kaiten partition (docs/PROTOCOL.md §18): what a stream
 * is besides its log, and the pure rules over it (offsets, content types, TTL, JSON mode,
 * cursors). Host-neutral: the Cloudflare host keeps `StreamMeta` in the partition object's
 * SQLite next to the log, and the Worker speaks HTTP.
 */
import { KaitenError } from "@kaiten/protocol";

/** What a Durable Stream holds besides its records (one row per partition object). */
export interface StreamMeta {
  contentType: string;
  /** Sliding time-to-live in seconds, or null. */
  ttlSeconds: number | null;
  /** Absolute expiry as given (RFC 3339), or null. */
  expiresAt: string | null;
  closed: boolean;
  /** The idempotent producer request that closed the stream, to answer its retry. */
  closedBy: { producerId: string; epoch: number; seq: number } | null;
  /** The last `Stream-Seq` accepted (per stream), compared byte-wise. */
  lastSeq: string | null;
  fork: { source: string; offset: number; subOffset: number } | null;
  /** Streams forked from this one and not yet deleted. */
  forks: number;
  /** Deleted while forks still reference it: 410 to every client (§18.7). */
  softDeleted: boolean;
  /** Last read or write, for the sliding TTL (ms since the Unix epoch). */
  touchedAt: number;
}

/**
 * Offsets are `0000000000000000_` and the record offset in 16 digits: sortable as strings,
 * never the sentinels "-1" or "now". The first field is reserved (always 0 today); it keeps
 * the shape other Durable Streams servers use, which clients and tests sometimes build.
 */
const OFFSET = /^(\d{16})_(\d{16})$/;
const RESERVED = "0".repeat(16);

export function formatOffset(offset: number): string {
  return `${RESERVED}_${String(offset).padStart(16, "0")}`;
}

/** A read position: a record offset, the stream's start, or its tail. */
export type StreamPosition = number | "start" | "now";

export function parseOffset(raw: string | null): StreamPosition {
  if (raw === null || raw === "-1") return "start";
  if (raw === "now") return "now";
  const m = OFFSET.exec(raw);
  if (!m) throw invalid("offset must be -1, now, or an offset this server sent");
  return Number(m[2]);
}

export function invalid(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

/** The media type without parameters, lower case: what two content types are compared by. */
export function mediaType(contentType: string): string {
  return (contentType.split(";")[0] ?? "").trim().toLowerCase();
}

export function isJson(contentType: string): boolean {
  return mediaType(contentType) === "application/json";
}

/** Text streams go over SSE as text; every other type as base64 (DS PROTOCOL §5.8). */
export function isText(contentType: string): boolean {
  const m = mediaType(contentType);
  return m.startsWith("text/") || m === "application/json";
}

/** `Stream-TTL`: a decimal integer without sign, leading zeros, point or exponent. */
export function parseTtl(raw: string | null): number | null {
  if (raw === null) return null;
  if (!/^(0|[1-9]\d{0,15})$/.test(raw))
    throw invalid("Stream-TTL must be a whole number of seconds");
  return Number(raw);
}

export function parseExpiresAt(raw: string | null): string | null {
  if (raw === null) return null;
  const rfc3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
  if (!rfc3339.test(raw) || Number.isNaN(Date.parse(raw)))
    throw invalid("Stream-Expires-At must be an RFC 3339 time");
  return raw;
}

/** Whether the stream has outlived its TTL or expiry time at `now`. */
export function expired(meta: StreamMeta, now: number): boolean {
  if (meta.expiresAt !== null && Date.parse(meta.expiresAt) <= now) return true;
  return meta.ttlSeconds !== null && meta.touchedAt + meta.ttlSeconds * 1000 <= now;
}

/**
 * The messages of a JSON-mode body: an array is flattened one level, any other value is one
 * message. Each message is stored as one record (its compact JSON text).
 */
export function jsonMessages(body: string, allowEmpty: boolean): string[] {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw invalid("the body is not valid JSON");
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0 && !allowEmpty) throw invalid("an append of an empty JSON array");
  return items.map((v) => JSON.stringify(v));
}

/** The cursor interval: 20 s counted from 2024-10-09T00:00:00Z (DS PROTOCOL §10.1). */
const CURSOR_EPOCH = Date.UTC(2024, 9, 9);
const CURSOR_INTERVAL_MS = 20_000;

/** A cursor strictly past the client's, so a CDN never serves the same empty answer in a loop. */
export function nextCursor(now: number, clientCursor: string | null, random: () => number): string {
  const current = Math.floor((now - CURSOR_EPOCH) / CURSOR_INTERVAL_MS);
  const theirs =
    clientCursor !== null && /^\d{1,15}$/.test(clientCursor) ? Number(clientCursor) : -1;
  if (theirs < current) return String(current);
  const jitterIntervals = Math.max(1, Math.ceil((1 + random() * 3599) / 20));
  return String(theirs + jitterIntervals);
}

/** Whether a PUT asks for the stream as it exists (then 200, else 409). */
export function sameConfig(
  meta: StreamMeta,
  want: Pick<StreamMeta, "contentType" | "ttlSeconds" | "expiresAt" | "closed" | "fork"> & {
    inherits?: boolean;
  },
): boolean {
  const inherit = want.inherits === true;
  const forkSame =
    (meta.fork === null && want.fork === null) ||
    (meta.fork !== null &&
      want.fork !== null &&
      meta.fork.source === want.fork.source &&
      (meta.fork.offset === want.fork.offset || want.fork.offset === -1) &&
      meta.fork.subOffset === want.fork.subOffset);
  return (
    (mediaType(meta.contentType) === mediaType(want.contentType) ||
      (inherit && want.contentType === "")) &&
    (meta.ttlSeconds === want.ttlSeconds ||
      (inherit && want.ttlSeconds === null && want.expiresAt === null)) &&
    (meta.expiresAt === want.expiresAt ||
      (inherit && want.ttlSeconds === null && want.expiresAt === null)) &&
    meta.closed === want.closed &&
    forkSame
  );
}
