/**
 * The half of the frame codec (PROTOCOL.md §5) a client needs: it encodes client frames and
 * decodes server frames, on the protocol package's Reader and Writer and with its types and
 * constants. The protocol's encodeFrame and decodeFrame serve both directions; bundling the
 * broker's half (decoding PRODUCE and SUBSCRIBE, encoding acks and errors) would cost 0.4 KB
 * of the entry's 8 KB budget. test/frames.test.ts checks both functions byte for byte
 * against encodeFrame and decodeFrame for every frame type, so the layouts cannot drift.
 */
import {
  type ClientFrame,
  decodeUtf8,
  errorName,
  FrameType,
  KaitenError,
  Reader,
  type ServerFrame,
  Writer,
} from "@kaiten/protocol";
import { utf8 } from "./serde.ts";

export function encodeClientFrame(f: ClientFrame): Uint8Array {
  const w = new Writer(f.type === FrameType.Produce ? f.batch.length + 96 : 32).u8(f.type);
  if (f.type === FrameType.Credit) return w.u32(f.credit).finish();
  w.u32(f.requestId);
  if (f.type === FrameType.Produce) {
    const id = utf8(f.producerId);
    w.u8(id.length).bytes(id).u32(f.producerEpoch).u32(f.sequence).bytes(f.batch);
  } else if (f.type === FrameType.Subscribe) {
    w.u8(f.from).u64(f.position).u32(f.epoch).u32(f.credit);
    // No key filter is a length of 0xFFFF (§5.2).
    if (f.key) w.u16(f.key.length).bytes(f.key);
    else w.u16(0xffff);
  }
  return w.finish();
}

/** Decodes one server frame; anything else throws a KaitenError (MALFORMED_FRAME, UNKNOWN_FRAME_TYPE). */
export function decodeServerFrame(bytes: Uint8Array): ServerFrame {
  const r = new Reader(bytes);
  const type = r.u8();
  let f: ServerFrame;
  if (type === FrameType.Records)
    f = { type, nextOffset: r.u64(), highWatermark: r.u64(), batches: r.rest() };
  else if (type === FrameType.ProduceAck) {
    f = {
      type,
      requestId: r.u32(),
      baseOffset: r.u64(),
      count: r.u32(),
      epoch: r.u32(),
      duplicate: flag(r),
    };
  } else if (type === FrameType.Subscribed) {
    f = {
      type,
      requestId: r.u32(),
      epoch: r.u32(),
      startOffset: r.u64(),
      earliestOffset: r.u64(),
      highWatermark: r.u64(),
    };
  } else if (type === FrameType.Unsubscribed) f = { type, requestId: r.u32() };
  else if (type === FrameType.Error) {
    const requestId = r.u32();
    const code = errorName(r.u16());
    const retriable = flag(r);
    const detail = r.u64();
    const message = decodeUtf8(r.bytes(r.u16()));
    if (!code) throw malformed();
    f = { type, requestId, code, retriable, detail, message };
  } else throw new KaitenError("UNKNOWN_FRAME_TYPE", `frame type ${type}`);
  if (r.remaining) throw malformed();
  return f;
}

const malformed = () => new KaitenError("MALFORMED_FRAME", "malformed frame");

function flag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) throw malformed();
  return b === 1;
}
