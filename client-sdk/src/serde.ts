/**
 * Records as applications see them, and their conversion to and from the wire (§4). Values
 * are JSON by default; `Uint8Array` and strings travel as raw bytes; a Serde changes that.
 */
import type { WireRecord } from "@kaiten/protocol";
import { BYTES, JSON_VALUE } from "./codes.ts";
import { ClientCode, KaitenClientError } from "./errors.ts";

export interface Serde {
  /** A value to bytes, and whether those bytes are JSON text (the record's format flag). */
  serialize(value: unknown): { bytes: Uint8Array; json: boolean };
  /** Bytes back to a value; `json` is the record's format flag. */
  deserialize(bytes: Uint8Array, json: boolean): unknown;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * The default: `Uint8Array` and strings as bytes (a string comes back as a Uint8Array: decode
 * it with TextDecoder), anything else as JSON. A JSON-flagged value that does not parse comes
 * back as its bytes rather than stopping the subscription.
 */
export const jsonSerde: Serde = {
  serialize(value) {
    const raw = value instanceof Uint8Array || typeof value === "string";
    // undefined and functions have no JSON form: they travel as null, as in JSON.stringify's arrays.
    const text = raw ? value : (JSON.stringify(value) ?? "null");
    return { bytes: typeof text === "string" ? utf8(text) : (text as Uint8Array), json: !raw };
  },
  deserialize(bytes, json) {
    try {
      return json ? JSON.parse(decoder.decode(bytes)) : bytes;
    } catch {
      return bytes;
    }
  },
};

/** What `produce` takes. */
export interface ProduceRecord {
  /** Records with the same key go to the same partition, in order (Kafka's murmur2). Default: none */
  key?: string | Uint8Array | null;
  value: unknown;
  /** Default: none */
  headers?: Record<string, string>;
  /** Milliseconds since the Unix epoch. Default: Date.now() */
  timestamp?: number;
  /** Sends to this partition instead. Default: the key's, or for keyless records one per batch, rotating */
  partition?: number;
}

/** What a subscription yields. */
export interface Rec<T = unknown> {
  topic: string;
  partition: number;
  offset: number;
  /** The key as UTF-8 text, or null. */
  key: string | null;
  value: T;
  headers: Record<string, string>;
  /** Milliseconds since the Unix epoch, set by the producer. */
  timestamp: number;
}

const invalid = (why: string) => new KaitenClientError(ClientCode.InvalidRecord, why);

export function keyBytes(key: unknown): Uint8Array | null {
  if (key == null || key instanceof Uint8Array) return key ?? null;
  if (typeof key === "string") return utf8(key);
  throw invalid("key type");
}

/** A record in its wire form, and its size as the topic's maxRecordBytes counts it (§4.2). */
export function toWire(r: ProduceRecord, serde: Serde): [WireRecord, number] {
  const headers = Object.entries(r.headers ?? {});
  const timestamp = r.timestamp ?? Date.now();
  const key = keyBytes(r.key);
  let value: { bytes: Uint8Array; json: boolean };
  try {
    value = serde.serialize(r.value);
  } catch (error) {
    throw invalid(String(error));
  }
  // Key, value and header bytes; a header's name and value are counted in one encoding.
  let size = (key?.length ?? 0) + value.bytes.length;
  for (const [k, v] of headers) size += typeof v === "string" ? utf8(k + v).length : Number.NaN;
  if (!(Number.isSafeInteger(timestamp) && timestamp >= 0 && size >= 0))
    throw invalid("header or timestamp");
  const format = value.json ? JSON_VALUE : BYTES;
  return [{ key, value: value.bytes, format, headers, timestamp }, size];
}
