/**
 * Record batches (docs/PROTOCOL.md §4): the unit that is produced, stored (one row per group
 * commit) and sent to subscribers. A chunk is batches laid end to end; a broker never decodes
 * and re-encodes a chunk to send it, it only patches the base offset of a produced batch.
 */
import { decodeUtf8, malformed, Reader, Writer } from "./bytes.ts";
import { KaitenError } from "./errors.ts";
import { Limits } from "./limits.ts";

export const ValueFormat = { Bytes: 0, Json: 1 } as const;
export type ValueFormat = (typeof ValueFormat)[keyof typeof ValueFormat];

/** A record as it travels: keys and values are bytes; JSON values are UTF-8 JSON text. */
export interface WireRecord {
  key: Uint8Array | null;
  value: Uint8Array;
  format: ValueFormat;
  headers: Array<[string, string]>;
  /** Milliseconds since the Unix epoch, set by the producer. */
  timestamp: number;
}

export interface StoredRecord extends WireRecord {
  offset: number;
}

/** Bytes before the records of a batch: base offset, base timestamp, count, records length. */
export const BATCH_HEADER_BYTES = 24;
const ATTR_KEY = 0x01;
const ATTR_FORMAT_SHIFT = 1;
const ATTR_KNOWN = 0x07;

export interface BatchHeader {
  baseOffset: number;
  baseTimestamp: number;
  count: number;
  recordsLength: number;
}

const textEncoder = new TextEncoder();

/** Encodes records as one batch whose offsets are `baseOffset + index`. */
export function encodeBatch(records: readonly WireRecord[], baseOffset = 0): Uint8Array {
  const first = records[0];
  if (!first) throw new KaitenError("INVALID_BATCH", "a batch holds at least one record");
  for (const r of records) {
    if (!Number.isSafeInteger(r.timestamp) || r.timestamp < 0) {
      throw new KaitenError(
        "INVALID_BATCH",
        "timestamps are non-negative integers of milliseconds",
      );
    }
  }
  const w = new Writer(BATCH_HEADER_BYTES + records.length * 64);
  w.u64(baseOffset).u64(first.timestamp).u32(records.length).u32(0);
  records.forEach((r, i) => {
    writeRecord(w, r, i, r.timestamp - first.timestamp);
  });
  w.patchU32(20, w.pos - BATCH_HEADER_BYTES);
  return w.finish();
}

function writeRecord(w: Writer, r: WireRecord, offsetDelta: number, tsDelta: number): void {
  w.u8((r.key ? ATTR_KEY : 0) | (r.format << ATTR_FORMAT_SHIFT));
  w.varint(offsetDelta).svarint(tsDelta);
  if (r.key) w.lenBytes(r.key);
  w.lenBytes(r.value).varint(r.headers.length);
  for (const [k, v] of r.headers) w.lenBytes(textEncoder.encode(k)).lenBytes(textEncoder.encode(v));
}

export function readBatchHeader(r: Reader): BatchHeader {
  const baseOffset = r.u64();
  const baseTimestamp = r.u64();
  const count = r.u32();
  const recordsLength = r.u32();
  if (recordsLength > r.remaining) throw malformed("batch longer than its frame");
  return { baseOffset, baseTimestamp, count, recordsLength };
}

/** Where one record sits in a batch, found without decoding its strings. */
interface RecordSpan {
  start: number;
  end: number;
  offsetDelta: number;
  tsDelta: number;
  key: Uint8Array | null;
  /** Key + value + header bytes: what counts against the record size limit. */
  size: number;
}

function scanRecord(r: Reader, maxRecordBytes: number, checkText = false): RecordSpan {
  const start = r.pos;
  const attrs = r.u8();
  if (attrs & ~ATTR_KNOWN || attrs >> ATTR_FORMAT_SHIFT > ValueFormat.Json) {
    throw malformed("unknown record attributes");
  }
  const offsetDelta = r.varint();
  const tsDelta = r.svarint();
  const key = attrs & ATTR_KEY ? r.lenBytes(Limits.maxKeyBytes) : null;
  let size = (key?.length ?? 0) + skipField(r, maxRecordBytes);
  const headers = r.varint();
  if (headers > Limits.maxHeaders) throw malformed("too many headers");
  for (let i = 0; i < headers * 2; i++) size += skipField(r, maxRecordBytes, checkText);
  if (size > maxRecordBytes) {
    throw new KaitenError("RECORD_TOO_LARGE", `record of ${size} bytes is over ${maxRecordBytes}`);
  }
  return { start, end: r.pos, offsetDelta, tsDelta, key, size };
}

function skipField(r: Reader, max: number, checkText = false): number {
  const n = r.varint();
  if (n > max) throw new KaitenError("RECORD_TOO_LARGE", `field of ${n} bytes is over ${max}`);
  // Validation runs for every produced record: skip bytes without allocating a view.
  if (checkText) decodeUtf8(r.bytes(n));
  else r.skip(n);
  return n;
}

/** Calls `each` for every batch of a chunk, with a reader bounded to that batch's records. */
function forEachBatch(chunk: Uint8Array, each: (h: BatchHeader, r: Reader, at: number) => void) {
  const outer = new Reader(chunk);
  while (outer.remaining > 0) {
    const at = outer.pos;
    const h = readBatchHeader(outer);
    each(h, new Reader(chunk, outer.pos, outer.pos + h.recordsLength), at);
    outer.pos += h.recordsLength;
  }
}

export interface ProducedBatchInfo {
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  /** Key of each record (null when keyless), for brokers that check key placement. */
  keys: Array<Uint8Array | null>;
}

/**
 * Checks a batch from a producer completely: one batch filling the bytes, base offset 0,
 * offset deltas 0..n-1, known attributes, sizes within limits, UTF-8 headers. Throws a
 * KaitenError naming what is wrong; a batch that passes can be stored as it is.
 */
export function validateProducedBatch(
  batch: Uint8Array,
  maxRecordBytes: number,
): ProducedBatchInfo {
  const r = new Reader(batch);
  const h = readBatchHeader(r);
  if (h.baseOffset !== 0) throw invalid("a produced batch has base offset 0");
  if (h.count === 0) throw invalid("a batch holds at least one record");
  if (h.count > Limits.maxBatchRecords) throw invalid(`over ${Limits.maxBatchRecords} records`);
  if (h.recordsLength !== r.remaining) throw malformed("batch length does not fill the frame");
  const info: ProducedBatchInfo = {
    count: h.count,
    firstTimestamp: h.baseTimestamp,
    maxTimestamp: 0,
    keys: [],
  };
  for (let i = 0; i < h.count; i++) {
    const span = scanRecord(r, maxRecordBytes, true);
    if (span.offsetDelta !== i) throw invalid("offset deltas must be 0, 1, 2, ...");
    const ts = h.baseTimestamp + span.tsDelta;
    if (ts < 0 || !Number.isSafeInteger(ts)) throw invalid("timestamp out of range");
    info.maxTimestamp = Math.max(info.maxTimestamp, ts);
    info.keys.push(span.key);
  }
  if (r.remaining !== 0) throw malformed("bytes after the last record");
  return info;
}

function invalid(why: string): KaitenError {
  return new KaitenError("INVALID_BATCH", `invalid batch: ${why}`);
}

/** A copy of a produced batch with its base offset set. */
export function withBaseOffset(batch: Uint8Array, baseOffset: number): Uint8Array {
  const copy = batch.slice();
  const w = new DataView(copy.buffer);
  w.setUint32(0, Math.floor(baseOffset / 0x1_0000_0000));
  w.setUint32(4, baseOffset % 0x1_0000_0000);
  return copy;
}

function decodeRecord(r: Reader, baseOffset: number, baseTimestamp: number): StoredRecord {
  const attrs = r.u8();
  if (attrs & ~ATTR_KNOWN || attrs >> ATTR_FORMAT_SHIFT > ValueFormat.Json) {
    throw malformed("unknown record attributes");
  }
  const offset = baseOffset + r.varint();
  const timestamp = baseTimestamp + r.svarint();
  const key = attrs & ATTR_KEY ? r.lenBytes(Limits.maxKeyBytes).slice() : null;
  const value = r.lenBytes(Limits.maxFrameBytes).slice();
  const n = r.varint();
  if (n > Limits.maxHeaders) throw malformed("too many headers");
  const headers: Array<[string, string]> = [];
  for (let i = 0; i < n; i++) {
    const k = decodeUtf8(r.lenBytes(Limits.maxFrameBytes));
    headers.push([k, decodeUtf8(r.lenBytes(Limits.maxFrameBytes))]);
  }
  const format = (attrs >> ATTR_FORMAT_SHIFT) as ValueFormat;
  return { offset, key, value, format, headers, timestamp };
}

/** Decodes every record of a chunk (one or more batches), in offset order. */
export function decodeChunk(chunk: Uint8Array): StoredRecord[] {
  const out: StoredRecord[] = [];
  forEachBatch(chunk, (h, r) => {
    for (let i = 0; i < h.count; i++) out.push(decodeRecord(r, h.baseOffset, h.baseTimestamp));
    if (r.remaining !== 0) throw malformed("bytes after the last record of a batch");
  });
  return out;
}

/**
 * Keeps the records of a chunk for which `keep(offset, key)` is true, as batches with the
 * same base offsets and timestamps (offset deltas keep their gaps). Used to start a read in
 * the middle of a stored chunk and for key-filtered subscriptions. Returns the input itself
 * when every record is kept, so the common case copies nothing.
 */
export function filterChunk(
  chunk: Uint8Array,
  keep: (offset: number, key: Uint8Array | null) => boolean,
): Uint8Array {
  const parts: Uint8Array[] = [];
  let dropped = false;
  forEachBatch(chunk, (h, r) => {
    const spans: RecordSpan[] = [];
    for (let i = 0; i < h.count; i++) {
      const span = scanRecord(r, Limits.maxFrameBytes);
      if (keep(h.baseOffset + span.offsetDelta, span.key)) spans.push(span);
      else dropped = true;
    }
    if (r.remaining !== 0) throw malformed("bytes after the last record of a batch");
    if (spans.length > 0) parts.push(rebuildBatch(chunk, h, spans));
  });
  if (!dropped) return chunk;
  return concat(parts);
}

function rebuildBatch(chunk: Uint8Array, h: BatchHeader, spans: RecordSpan[]): Uint8Array {
  const length = spans.reduce((n, s) => n + s.end - s.start, 0);
  const w = new Writer(BATCH_HEADER_BYTES + length);
  w.u64(h.baseOffset).u64(h.baseTimestamp).u32(spans.length).u32(length);
  for (const s of spans) w.bytes(chunk.subarray(s.start, s.end));
  return w.finish();
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
