/**
 * Binary frames of protocol v1 (docs/PROTOCOL.md §5). One WebSocket message is one frame;
 * the first byte is its type. Client frames have types below 0x80, server frames above.
 */
import { decodeUtf8, malformed, Reader, utf8, Writer } from "./bytes.ts";
import { ErrorCode, ErrorInfo, type ErrorName, errorName, KaitenError } from "./errors.ts";
import { Limits } from "./limits.ts";

export const FrameType = {
  Produce: 0x01,
  Subscribe: 0x02,
  Credit: 0x03,
  Unsubscribe: 0x04,
  Auth: 0x05,
  ProduceAck: 0x81,
  Subscribed: 0x82,
  Records: 0x83,
  Error: 0x84,
  Unsubscribed: 0x85,
  Authed: 0x86,
} as const;

export const StartFrom = { Earliest: 0, Latest: 1, Offset: 2, Timestamp: 3 } as const;
export type StartFrom = (typeof StartFrom)[keyof typeof StartFrom];

/** The producer identity of an idempotent produce; an empty id means not idempotent. */
export interface ProducerIdentity {
  producerId: string;
  producerEpoch: number;
  sequence: number;
}

export interface ProduceFrame extends ProducerIdentity {
  type: typeof FrameType.Produce;
  requestId: number;
  /** One encoded batch with base offset 0 (§4). */
  batch: Uint8Array;
}

export interface SubscribeFrame {
  type: typeof FrameType.Subscribe;
  requestId: number;
  from: StartFrom;
  /** The offset or timestamp for `Offset` and `Timestamp`; 0 otherwise. */
  position: number;
  /** The log epoch the position belongs to; 0 when the client does not know it. */
  epoch: number;
  /** Bytes the server may send before it needs more credit. */
  credit: number;
  /** Only records with exactly this key, when set. */
  key: Uint8Array | null;
}

export interface CreditFrame {
  type: typeof FrameType.Credit;
  credit: number;
}

export interface UnsubscribeFrame {
  type: typeof FrameType.Unsubscribe;
  requestId: number;
}

/** A new token for an open socket, sent before the current one expires (§15.4). */
export interface AuthFrame {
  type: typeof FrameType.Auth;
  requestId: number;
  token: string;
}

export interface ProduceAckFrame {
  type: typeof FrameType.ProduceAck;
  requestId: number;
  baseOffset: number;
  count: number;
  epoch: number;
  /** The batch had been stored before: these are its original offsets. */
  duplicate: boolean;
}

export interface SubscribedFrame {
  type: typeof FrameType.Subscribed;
  requestId: number;
  epoch: number;
  /** The offset of the first record that will be sent. */
  startOffset: number;
  earliestOffset: number;
  highWatermark: number;
}

export interface RecordsFrame {
  type: typeof FrameType.Records;
  /** Where the subscription continues after this frame. */
  nextOffset: number;
  highWatermark: number;
  /** One or more batches laid end to end (a chunk). */
  batches: Uint8Array;
}

export interface ErrorFrame {
  type: typeof FrameType.Error;
  /** The request this answers; 0 when it answers no request (a frame that could not be read). */
  requestId: number;
  code: ErrorName;
  retriable: boolean;
  /** Code-specific: earliest offset, current epoch, expected sequence (§8). */
  detail: number;
  message: string;
}

export interface UnsubscribedFrame {
  type: typeof FrameType.Unsubscribed;
  requestId: number;
}

/** The answer to AUTH: the socket now holds the new token's rights until `expiresAt`. */
export interface AuthedFrame {
  type: typeof FrameType.Authed;
  requestId: number;
  /** When the socket's rights end, in ms since the epoch; 0 when they do not expire. */
  expiresAt: number;
}

export type ClientFrame =
  | ProduceFrame
  | SubscribeFrame
  | CreditFrame
  | UnsubscribeFrame
  | AuthFrame;
export type ServerFrame =
  | ProduceAckFrame
  | SubscribedFrame
  | RecordsFrame
  | ErrorFrame
  | UnsubscribedFrame
  | AuthedFrame;
export type Frame = ClientFrame | ServerFrame;

/** Bytes before the batches of a RECORDS frame. */
export const RECORDS_HEADER_BYTES = 17;
const NO_KEY = 0xffff;

export function encodeFrame(f: Frame): Uint8Array {
  const w = new Writer(f.type === FrameType.Produce ? f.batch.length + 96 : 64);
  w.u8(f.type);
  switch (f.type) {
    case FrameType.Produce: {
      const id = utf8.encode(f.producerId);
      if (id.length > Limits.maxProducerIdBytes) {
        throw new KaitenError(
          "INVALID_REQUEST",
          `producer ids are at most ${Limits.maxProducerIdBytes} bytes`,
        );
      }
      w.u32(f.requestId)
        .u8(id.length)
        .bytes(id)
        .u32(f.producerEpoch)
        .u32(f.sequence)
        .bytes(f.batch);
      break;
    }
    case FrameType.Subscribe:
      w.u32(f.requestId).u8(f.from).u64(f.position).u32(f.epoch).u32(f.credit);
      if (f.key) w.u16(f.key.length).bytes(f.key);
      else w.u16(NO_KEY);
      break;
    case FrameType.Credit:
      w.u32(f.credit);
      break;
    case FrameType.Unsubscribe:
    case FrameType.Unsubscribed:
      w.u32(f.requestId);
      break;
    case FrameType.Auth: {
      const token = utf8.encode(f.token);
      if (token.length > Limits.maxTokenBytes) {
        throw new KaitenError(
          "INVALID_REQUEST",
          `tokens are at most ${Limits.maxTokenBytes} bytes`,
        );
      }
      w.u32(f.requestId).u16(token.length).bytes(token);
      break;
    }
    case FrameType.Authed:
      w.u32(f.requestId).u64(f.expiresAt);
      break;
    case FrameType.ProduceAck:
      w.u32(f.requestId)
        .u64(f.baseOffset)
        .u32(f.count)
        .u32(f.epoch)
        .u8(f.duplicate ? 1 : 0);
      break;
    case FrameType.Subscribed:
      w.u32(f.requestId).u32(f.epoch).u64(f.startOffset).u64(f.earliestOffset).u64(f.highWatermark);
      break;
    case FrameType.Records:
      return encodeRecordsFrame(f.nextOffset, f.highWatermark, f.batches);
    case FrameType.Error: {
      const msg = truncateUtf8(f.message, Limits.maxErrorMessageBytes);
      w.u32(f.requestId)
        .u16(ErrorCode[f.code])
        .u8(f.retriable ? 1 : 0)
        .u64(f.detail);
      w.u16(msg.length).bytes(msg);
      break;
    }
  }
  return w.finish();
}

/** A RECORDS frame around a stored chunk: one copy of the chunk, no re-encoding. */
export function encodeRecordsFrame(nextOffset: number, highWatermark: number, batches: Uint8Array) {
  const out = new Uint8Array(RECORDS_HEADER_BYTES + batches.length);
  const w = new Writer(RECORDS_HEADER_BYTES);
  w.u8(FrameType.Records).u64(nextOffset).u64(highWatermark);
  out.set(w.finish(), 0);
  out.set(batches, RECORDS_HEADER_BYTES);
  return out;
}

/** An ERROR frame from a KaitenError. */
export function errorFrame(requestId: number, e: KaitenError): Uint8Array {
  return encodeFrame({
    type: FrameType.Error,
    requestId,
    code: e.code,
    retriable: e.retriable,
    detail: e.detail,
    message: e.message,
  });
}

function truncateUtf8(s: string, max: number): Uint8Array {
  let bytes = utf8.encode(s);
  while (bytes.length > max) {
    s = s.slice(0, Math.floor(s.length * 0.9));
    // Never end on half a surrogate pair: UTF-8 would carry it as U+FFFD, not a prefix.
    if (/[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1);
    bytes = utf8.encode(s);
  }
  return bytes;
}

/**
 * Decodes one frame. Anything that is not exactly one valid frame throws a KaitenError
 * (MALFORMED_FRAME, UNKNOWN_FRAME_TYPE or FRAME_TOO_LARGE) and never any other exception.
 * Batches inside PRODUCE are returned as views; their records are checked by
 * validateProducedBatch.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  if (bytes.length > Limits.maxFrameBytes + RECORDS_HEADER_BYTES + Limits.maxChunkBytes) {
    throw new KaitenError("FRAME_TOO_LARGE", `frame of ${bytes.length} bytes`);
  }
  const r = new Reader(bytes);
  const frame = decodeBody(r, r.u8());
  if (r.remaining !== 0) throw malformed("bytes after the end of the frame");
  return frame;
}

function decodeBody(r: Reader, type: number): Frame {
  switch (type) {
    case FrameType.Produce:
      return decodeProduce(r);
    case FrameType.Subscribe:
      return decodeSubscribe(r);
    case FrameType.Credit:
      return { type, credit: r.u32() };
    case FrameType.Unsubscribe:
    case FrameType.Unsubscribed:
      return { type, requestId: r.u32() };
    case FrameType.Auth:
      return decodeAuth(r);
    case FrameType.Authed:
      return { type, requestId: r.u32(), expiresAt: r.u64() };
    case FrameType.ProduceAck:
      return {
        type,
        requestId: r.u32(),
        baseOffset: r.u64(),
        count: r.u32(),
        epoch: r.u32(),
        duplicate: flag(r.u8()),
      };
    case FrameType.Subscribed:
      return {
        type,
        requestId: r.u32(),
        epoch: r.u32(),
        startOffset: r.u64(),
        earliestOffset: r.u64(),
        highWatermark: r.u64(),
      };
    case FrameType.Records:
      return { type, nextOffset: r.u64(), highWatermark: r.u64(), batches: r.rest() };
    case FrameType.Error:
      return decodeError(r);
    default:
      throw new KaitenError("UNKNOWN_FRAME_TYPE", `unknown frame type 0x${type.toString(16)}`);
  }
}

function flag(b: number): boolean {
  if (b > 1) throw malformed("flag byte is neither 0 nor 1");
  return b === 1;
}

function decodeProduce(r: Reader): ProduceFrame {
  const requestId = r.u32();
  const idLength = r.u8();
  if (idLength > Limits.maxProducerIdBytes) throw malformed("producer id longer than 64 bytes");
  const producerId = decodeUtf8(r.bytes(idLength));
  const producerEpoch = r.u32();
  const sequence = r.u32();
  // §7 limits the whole client frame, not just the batch in it.
  if (r.end > Limits.maxFrameBytes)
    throw new KaitenError("FRAME_TOO_LARGE", `frame of ${r.end} bytes`);
  const batch = r.rest();
  return { type: FrameType.Produce, requestId, producerId, producerEpoch, sequence, batch };
}

function decodeSubscribe(r: Reader): SubscribeFrame {
  const requestId = r.u32();
  const from = r.u8();
  if (from > StartFrom.Timestamp) throw malformed("unknown start position kind");
  const position = r.u64();
  const epoch = r.u32();
  const credit = r.u32();
  const keyLength = r.u16();
  if (keyLength !== NO_KEY && keyLength > Limits.maxKeyBytes)
    throw malformed("key filter too long");
  const key = keyLength === NO_KEY ? null : r.bytes(keyLength).slice();
  return {
    type: FrameType.Subscribe,
    requestId,
    from: from as StartFrom,
    position,
    epoch,
    credit,
    key,
  };
}

function decodeAuth(r: Reader): AuthFrame {
  const requestId = r.u32();
  const length = r.u16();
  if (length > Limits.maxTokenBytes) throw malformed("token longer than the limit");
  return { type: FrameType.Auth, requestId, token: decodeUtf8(r.bytes(length)) };
}

function decodeError(r: Reader): ErrorFrame {
  const requestId = r.u32();
  const number = r.u16();
  const code = errorName(number);
  if (!code) throw malformed(`unknown error code ${number}`);
  const retriable = flag(r.u8());
  const detail = r.u64();
  const message = decodeUtf8(r.bytes(r.u16()));
  return { type: FrameType.Error, requestId, code, retriable, detail, message };
}

/** The retriable flag a server puts on a code (clients read it from the frame). */
export function isRetriable(code: ErrorName): boolean {
  return ErrorInfo[code].retriable;
}
