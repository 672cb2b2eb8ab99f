/**
 * Records in the HTTP API's JSON (docs/PROTOCOL.md §11): keys are strings (UTF-8), JSON
 * values travel as JSON, byte values as base64 in `valueBase64`.
 */
import {
  decodeUtf8,
  fromBase64,
  KaitenError,
  Limits,
  type StoredRecord,
  toBase64,
  ValueFormat,
  type WireRecord,
} from "@kaiten/protocol";

const utf8 = new TextEncoder();

export interface JsonRecordIn {
  key?: string | null;
  value?: unknown;
  valueBase64?: string;
  headers?: Record<string, string>;
  timestamp?: number;
}

export interface JsonRecordOut {
  offset: number;
  key: string | null;
  keyBase64?: string;
  value?: unknown;
  valueBase64?: string;
  headers: Record<string, string>;
  timestamp: number;
}

function bad(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

export function toWireRecord(input: unknown, index: number, now: number): WireRecord {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw bad(`records[${index}] is not an object`);
  }
  const r = input as JsonRecordIn;
  return {
    key: wireKey(r.key, index),
    ...wireValue(r, index),
    headers: wireHeaders(r.headers, index),
    timestamp: wireTimestamp(r.timestamp, index, now),
  };
}

function wireKey(key: unknown, index: number): Uint8Array | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== "string") throw bad(`records[${index}].key must be a string`);
  const bytes = utf8.encode(key);
  if (bytes.length > Limits.maxKeyBytes)
    throw bad(`records[${index}].key is over ${Limits.maxKeyBytes} bytes`);
  return bytes;
}

function wireValue(r: JsonRecordIn, index: number): { value: Uint8Array; format: ValueFormat } {
  if (r.valueBase64 !== undefined) {
    if (r.value !== undefined) throw bad(`records[${index}] has both value and valueBase64`);
    const bytes = typeof r.valueBase64 === "string" ? fromBase64(r.valueBase64) : null;
    if (!bytes) throw bad(`records[${index}].valueBase64 is not base64`);
    return { value: bytes, format: ValueFormat.Bytes };
  }
  if (r.value === undefined)
    throw bad(`records[${index}] has no value (use null for an empty one)`);
  return { value: utf8.encode(JSON.stringify(r.value)), format: ValueFormat.Json };
}

function wireHeaders(headers: unknown, index: number): Array<[string, string]> {
  if (headers === undefined || headers === null) return [];
  if (typeof headers !== "object" || Array.isArray(headers))
    throw bad(`records[${index}].headers must be an object`);
  const entries = Object.entries(headers as Record<string, unknown>);
  if (entries.length > Limits.maxHeaders)
    throw bad(`records[${index}] has over ${Limits.maxHeaders} headers`);
  return entries.map(([k, v]) => {
    if (typeof v !== "string") throw bad(`records[${index}].headers.${k} must be a string`);
    return [k, v];
  });
}

function wireTimestamp(ts: unknown, index: number, now: number): number {
  if (ts === undefined || ts === null) return now;
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
    throw bad(`records[${index}].timestamp must be a non-negative integer of milliseconds`);
  }
  return ts;
}

export function toJsonRecord(r: StoredRecord): JsonRecordOut {
  const out: JsonRecordOut = {
    offset: r.offset,
    key: null,
    headers: Object.fromEntries(r.headers),
    timestamp: r.timestamp,
  };
  if (r.key) {
    const text = textOrNull(r.key);
    if (text === null) out.keyBase64 = toBase64(r.key);
    else out.key = text;
  }
  const json = r.format === ValueFormat.Json ? parseJson(r.value) : NOT_JSON;
  // A WebSocket producer may flag bytes as JSON without them being JSON; the broker does
  // not parse values on the write path, so such a value is returned as bytes.
  if (json !== NOT_JSON) out.value = json;
  else out.valueBase64 = toBase64(r.value);
  return out;
}

const NOT_JSON = Symbol("not JSON");

function parseJson(bytes: Uint8Array): unknown {
  const text = textOrNull(bytes);
  if (text === null) return NOT_JSON;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
}

function textOrNull(bytes: Uint8Array): string | null {
  try {
    return decodeUtf8(bytes);
  } catch {
    return null;
  }
}
