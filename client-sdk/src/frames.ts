/**
 * The half of the frame codec (PROTOCOL.md §5) a client needs: it encodes client frames and
 * decodes server frames, with the protocol package's types and constants and a cursor of its
 * own (cursor.ts), smaller than the protocol's Reader and Writer. The protocol's encodeFrame and decodeFrame serve both directions; bundling the
 * broker's half (decoding PRODUCE and SUBSCRIBE, encoding acks and errors) would cost 0.4 KB
 * of the entry's 8 KB budget. test/frames.test.ts checks both functions byte for byte
 * against encodeFrame and decodeFrame for every frame type, so the layouts cannot drift.
 */
import type { ClientFrame, ServerFrame, WireRecord } from "@kaiten/protocol";
import {
  CREDIT,
  ERROR,
  PRODUCE,
  PRODUCE_ACK,
  RECORDS,
  SUBSCRIBE,
  SUBSCRIBED,
  UNSUBSCRIBED,
} from "./codes.ts";
import { Cursor, malformed } from "./cursor.ts";
import { errorName, KaitenClientError } from "./errors.ts";
import { utf8 } from "./serde.ts";

/**
 * A PRODUCE frame (§5.1) around one batch of `records` (§4.1, §4.2), written once into one
 * buffer: no growing, no copy of the batch into the frame. Request id, epoch and sequence
 * are written in by `patchProduce` at each send. Timestamps are safe integers (toWire checks).
 */
export function encodeProduce(producerId: string, records: readonly WireRecord[]): Uint8Array {
  const id = utf8(producerId);
  const heads = records.map((r) => r.headers.flatMap(([k, v]) => [utf8(k), utf8(v)]));
  // At most: frame and batch headers, then per record its bytes and five varints of 8 bytes.
  let size = 38 + id.length;
  records.forEach((r, i) => {
    size += 41 + (r.key?.length ?? 0) + r.value.length;
    for (const h of heads[i] as Uint8Array[]) size += 8 + h.length;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  const varint = (n: number) => {
    for (; n > 127; n = Math.floor(n / 128)) out[p++] = (n % 128) | 128;
    out[p++] = n;
  };
  const bytes = (b: Uint8Array) => {
    varint(b.length);
    out.set(b, p);
    p += b.length;
  };
  const base = records[0]?.timestamp ?? 0;
  out[0] = PRODUCE;
  out[5] = id.length;
  out.set(id, 6);
  // Then epoch and sequence, and the batch: base offset 0, base timestamp, count, length.
  p = 22 + id.length;
  view.setUint32(p, base / 2 ** 32);
  view.setUint32(p + 4, base % 2 ** 32);
  view.setUint32(p + 8, records.length);
  p += 16;
  const start = p;
  records.forEach((r, i) => {
    const ts = r.timestamp - base;
    out[p++] = (r.key ? 1 : 0) | (r.format << 1);
    varint(i);
    varint(ts < 0 ? -2 * ts - 1 : 2 * ts);
    if (r.key) bytes(r.key);
    bytes(r.value);
    const h = heads[i] as Uint8Array[];
    varint(h.length / 2);
    for (const b of h) bytes(b);
  });
  view.setUint32(start - 4, p - start);
  return out.subarray(0, p);
}

/** Writes the request id, epoch and sequence of a frame from `encodeProduce`. */
export function patchProduce(f: Uint8Array, requestId: number, epoch: number, seq: number): void {
  const view = new DataView(f.buffer, f.byteOffset);
  const at = 6 + (f[5] as number);
  view.setUint32(1, requestId);
  view.setUint32(at, epoch);
  view.setUint32(at + 4, seq);
}

/** SUBSCRIBE, CREDIT and UNSUBSCRIBE frames; PRODUCE frames come from `encodeProduce`. */
export function encodeClientFrame(f: Exclude<ClientFrame, { type: 1 }>): Uint8Array {
  const key = f.type === SUBSCRIBE ? f.key : null;
  const out = new Uint8Array(f.type === SUBSCRIBE ? 24 + (key?.length ?? 0) : 5);
  const view = new DataView(out.buffer);
  out[0] = f.type;
  view.setUint32(1, f.type === CREDIT ? f.credit : f.requestId);
  if (f.type === SUBSCRIBE) {
    out[5] = f.from;
    view.setUint32(6, f.position / 2 ** 32);
    view.setUint32(10, f.position % 2 ** 32);
    view.setUint32(14, f.epoch);
    view.setUint32(18, f.credit);
    // No key filter is a length of 0xFFFF (§5.2).
    view.setUint16(22, key ? key.length : 0xffff);
    if (key) out.set(key, 24);
  }
  return out;
}

/** Decodes one server frame; anything else throws a KaitenClientError (MALFORMED_FRAME, UNKNOWN_FRAME_TYPE). */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  const r = new Cursor(bytes);
  const type = r.u8();
  let f: ServerFrame;
  if (type === RECORDS) {
    f = { type, nextOffset: r.u64(), highWatermark: r.u64(), batches: bytes.subarray(17) };
    // The chunk fills the rest of the frame (§5.4).
    r.p = Math.max(r.p, bytes.length);
  } else if (type === PRODUCE_ACK) {
    f = {
      type,
      requestId: r.u32(),
      baseOffset: r.u64(),
      count: r.u32(),
      epoch: r.u32(),
      duplicate: flag(r),
    };
  } else if (type === SUBSCRIBED) {
    f = {
      type,
      requestId: r.u32(),
      epoch: r.u32(),
      startOffset: r.u64(),
      earliestOffset: r.u64(),
      highWatermark: r.u64(),
    };
  } else if (type === UNSUBSCRIBED) f = { type, requestId: r.u32() };
  else if (type === ERROR) {
    const requestId = r.u32();
    const code = errorName(r.u16());
    const retriable = flag(r);
    const detail = r.u64();
    const message = r.text(r.u16());
    if (!code) throw malformed();
    f = { type, requestId, code, retriable, detail, message };
  } else throw new KaitenClientError("UNKNOWN_FRAME_TYPE", `frame type ${type}`);
  if (r.p !== bytes.length) throw malformed();
  return f;
}

function flag(r: Cursor): boolean {
  const b = r.u8();
  if (b > 1) throw malformed();
  return b === 1;
}
