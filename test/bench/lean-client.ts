/**
 * The bench's protocol v1 client (docs/PROTOCOL.md §5): the same code drives Kaiten and both
 * relays. It is test/lib/client.ts made lean for load: RECORDS frames are scanned in place
 * (offsets, send time, record number) instead of decoded into objects, and credit goes back
 * in half-window grants instead of one CREDIT per frame (the broker bills and wakes on
 * every incoming message). Each record's value starts with its send time and its record
 * number, so a subscriber measures produce→deliver latency and checks what it got.
 */
import {
  decodeFrame,
  type ErrorFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  type StartFrom,
  SUBPROTOCOL,
  type SubscribedFrame,
  ValueFormat,
  type WireRecord,
} from "@kaiten/protocol";
import WebSocket from "ws";
import { Histogram } from "./histogram.ts";

/** Milliseconds since the Unix epoch with sub-millisecond precision, comparable across processes. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Bytes at the start of each value: send time and record number, two float64 (LE). */
export const STAMP_BYTES = 16;

export function socketUrl(baseUrl: string, topic: string, partition: number): string {
  return `${baseUrl.replace(/^http/, "ws")}/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/ws`;
}

/** Records with the given numbers, each `valueBytes` long and stamped with `sentAt`. */
export function benchRecords(
  numbers: readonly number[],
  valueBytes: number,
  sentAt: number,
  keyOf?: (no: number) => Uint8Array,
): WireRecord[] {
  const timestamp = Math.floor(sentAt);
  return numbers.map((no) => {
    const value = new Uint8Array(Math.max(valueBytes, STAMP_BYTES)).fill(0x61);
    const view = new DataView(value.buffer);
    view.setFloat64(0, sentAt, true);
    view.setFloat64(8, no, true);
    const key = keyOf ? keyOf(no) : null;
    return { key, value, format: ValueFormat.Bytes, headers: [], timestamp };
  });
}

/** 0, 1, ..., n - 1 */
export const range = (n: number, from = 0): number[] =>
  Array.from({ length: n }, (_, i) => from + i);

export interface Identity {
  producerId: string;
  producerEpoch: number;
}

export function produceFrame(
  requestId: number,
  records: WireRecord[],
  producer: Identity | null,
  sequence: number,
): Uint8Array {
  return encodeFrame({
    type: FrameType.Produce,
    requestId,
    producerId: producer?.producerId ?? "",
    producerEpoch: producer?.producerEpoch ?? 0,
    sequence,
    batch: encodeBatch(records),
  });
}

/** What a subscription received, checked record by record. */
export interface SubscriberStats {
  records: number;
  frames: number;
  bytes: number;
  /** Offsets skipped over (a gap). */
  lost: number;
  /** Records at an offset already received. */
  duplicates: number;
  /** Records whose number does not match their offset (when `recordNoBase` is set). */
  mismatched: number;
  /** Where the subscription continues. */
  nextOffset: number;
  firstAt: number;
  lastAt: number;
}

export interface SubscribeOptions {
  from: StartFrom;
  position?: number;
  epoch?: number;
  /** Credit window in bytes; half of it is granted back at a time. Default: 4 MiB */
  creditWindow?: number;
  /** Record produce→deliver latency. Default: false */
  latency?: boolean;
  /** Record number n must sit at offset n + recordNoBase. Default: not checked */
  recordNoBase?: number | null;
  /** Carry on the counts of an earlier subscription (a resume). */
  resume?: SubscriberStats;
}

const emptyStats = (): SubscriberStats => ({
  records: 0,
  frames: 0,
  bytes: 0,
  lost: 0,
  duplicates: 0,
  mismatched: 0,
  nextOffset: -1,
  firstAt: 0,
  lastAt: 0,
});

/** One WebSocket to one partition. */
export class BenchSocket {
  /** Messages this socket sent: each is a billable incoming message for a Durable Object. */
  messagesSent = 0;
  stats: SubscriberStats = emptyStats();
  readonly histogram = new Histogram();
  /** Latency of records sent from `steadyFrom` on (past the warm-up), also in `histogram`. */
  readonly steady = new Histogram();
  steadyFrom = Number.POSITIVE_INFINITY;
  onAck: (requestId: number, baseOffset: number, count: number) => void = () => {};
  onError: (frame: ErrorFrame) => void = (f) => {
    throw new Error(`unexpected ERROR ${f.code}: ${f.message}`);
  };
  readonly closed: Promise<number>;
  private subscribed: ((f: SubscribedFrame) => void) | null = null;
  private window = 0;
  private consumed = 0;
  private latency = false;
  private recordNoBase: number | null = null;
  private nextRequestId = 1;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
    ws.on("message", (data, isBinary) => {
      if (isBinary) this.receive(data as Buffer);
    });
  }

  static open(baseUrl: string, topic: string, partition: number): Promise<BenchSocket> {
    const ws = new WebSocket(socketUrl(baseUrl, topic, partition), SUBPROTOCOL, {
      perMessageDeflate: false,
      maxPayload: 64 * 1_048_576,
    });
    const errors: Error[] = [];
    ws.on("error", (e) => errors.push(e));
    const socket = new BenchSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(socket));
      ws.once("close", () => reject(errors[0] ?? new Error("socket closed while opening")));
    });
  }

  requestId(): number {
    return this.nextRequestId++;
  }

  send(frame: Uint8Array): void {
    this.ws.send(frame);
    this.messagesSent++;
  }

  subscribe(o: SubscribeOptions): Promise<SubscribedFrame> {
    this.window = o.creditWindow ?? 4 * 1_048_576;
    this.latency = o.latency ?? false;
    this.recordNoBase = o.recordNoBase ?? null;
    this.stats = o.resume ? { ...o.resume } : emptyStats();
    const frame = encodeFrame({
      type: FrameType.Subscribe,
      requestId: this.requestId(),
      from: o.from,
      position: o.position ?? 0,
      epoch: o.epoch ?? 0,
      credit: this.window,
      key: null,
    });
    return new Promise((resolve) => {
      this.subscribed = (f) => {
        if (this.stats.nextOffset < 0) this.stats.nextOffset = f.startOffset;
        resolve(f);
      };
      this.send(frame);
    });
  }

  /** Closes with 1000 and waits for the close. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, "done");
    await this.closed;
  }

  /** Drops the connection without a close handshake, as a network failure does. */
  async terminate(): Promise<void> {
    this.ws.terminate();
    await this.closed;
  }

  private receive(data: Buffer): void {
    const type = data[0];
    if (type === FrameType.Records) {
      this.records(data);
      return;
    }
    if (type === FrameType.ProduceAck) {
      // requestId u32, baseOffset u64, count u32
      const base = data.readUInt32BE(5) * 0x1_0000_0000 + data.readUInt32BE(9);
      this.onAck(data.readUInt32BE(1), base, data.readUInt32BE(13));
      return;
    }
    const frame = decodeFrame(data);
    if (frame.type === FrameType.Subscribed) this.subscribed?.(frame);
    else if (frame.type === FrameType.Error) this.onError(frame);
  }

  /** Scans a RECORDS frame in place (§5.4, §4): offsets, send times, record numbers. */
  private records(data: Buffer): void {
    const at = now();
    const s = this.stats;
    if (s.records === 0) s.firstAt = at;
    s.frames++;
    s.bytes += data.length;
    let p = 17;
    while (p < data.length) {
      const base = data.readUInt32BE(p) * 0x1_0000_0000 + data.readUInt32BE(p + 4);
      const count = data.readUInt32BE(p + 16);
      p += 24;
      for (let i = 0; i < count; i++) p = this.record(data, p, base, at);
    }
    s.lastAt = at;
    s.nextOffset = data.readUInt32BE(1) * 0x1_0000_0000 + data.readUInt32BE(5);
    this.credit(data.length);
  }

  private record(data: Buffer, start: number, base: number, at: number): number {
    let p = start;
    const attrs = data[p++] as number;
    // varint() returns one shared object: read each result before the next call.
    let v = varint(data, p);
    const offset = base + v.value;
    p = varint(data, v.end).end;
    if (attrs & 1) {
      v = varint(data, p);
      p = v.end + v.value;
    }
    v = varint(data, p);
    const valueAt = v.end;
    const valueBytes = v.value;
    p = valueAt + valueBytes;
    v = varint(data, p);
    const headerFields = v.value * 2;
    p = v.end;
    for (let h = 0; h < headerFields; h++) {
      v = varint(data, p);
      p = v.end + v.value;
    }
    this.check(offset);
    if (valueBytes >= STAMP_BYTES) this.stamp(data, valueAt, offset, at);
    return p;
  }

  private check(offset: number): void {
    const s = this.stats;
    if (offset < s.nextOffset) s.duplicates++;
    else {
      if (offset > s.nextOffset) s.lost += offset - s.nextOffset;
      s.nextOffset = offset + 1;
      s.records++;
    }
  }

  private stamp(data: Buffer, valueAt: number, offset: number, at: number): void {
    if (this.latency) {
      const sentAt = data.readDoubleLE(valueAt);
      this.histogram.add(at - sentAt);
      if (sentAt >= this.steadyFrom) this.steady.add(at - sentAt);
    }
    if (this.recordNoBase !== null && data.readDoubleLE(valueAt + 8) + this.recordNoBase !== offset)
      this.stats.mismatched++;
  }

  /** Grants credit back half a window at a time (§5.3). */
  private credit(frameBytes: number): void {
    this.consumed += frameBytes;
    if (this.consumed < this.window / 2 || this.ws.readyState !== WebSocket.OPEN) return;
    this.send(encodeFrame({ type: FrameType.Credit, credit: this.consumed }));
    this.consumed = 0;
  }
}

const scratch = { value: 0, end: 0 };

/** Unsigned LEB128 at `p` (§3.3); returns a shared object, read it at once. */
function varint(data: Buffer, p: number): { value: number; end: number } {
  let value = 0;
  let scale = 1;
  for (;;) {
    const b = data[p++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) break;
    scale *= 128;
  }
  scratch.value = value;
  scratch.end = p;
  return scratch;
}

/**
 * Sends pre-encoded PRODUCE frames in order, keeping at most `windowRecords` records
 * unacknowledged (at least one batch), until every record is acknowledged.
 */
export function pipelineProduce(
  socket: BenchSocket,
  frames: Uint8Array[],
  counts: number[],
  windowRecords: number,
): Promise<{ acked: number; startAt: number; endAt: number }> {
  const total = counts.reduce((a, b) => a + b, 0);
  let next = 0;
  let inFlight = 0;
  let acked = 0;
  const startAt = now();
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (next < frames.length) {
        const count = counts[next] as number;
        if (inFlight > 0 && inFlight + count > windowRecords) return;
        socket.send(frames[next] as Uint8Array);
        inFlight += count;
        next++;
      }
    };
    socket.onAck = (_id, _base, count) => {
      inFlight -= count;
      acked += count;
      if (acked === total) resolve({ acked, startAt, endAt: now() });
      else pump();
    };
    socket.onError = (f) => reject(new Error(`produce failed: ${f.code} ${f.message}`));
    socket.closed.then(() => reject(new Error(`socket closed after ${acked} acks`)));
    pump();
  });
}
