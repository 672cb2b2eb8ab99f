/**
 * A minimal protocol v1 client for end-to-end tests, on the `ws` package (Node 20 has no
 * global WebSocket). It speaks the binary frames of docs/PROTOCOL.md §5 directly, with no
 * retries or reconnection of its own, so a test sees exactly what the broker did.
 */
import {
  type AuthedFrame,
  decodeChunk,
  decodeFrame,
  type ErrorFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  type ProduceAckFrame,
  type ProducerIdentity,
  type RecordsFrame,
  type StartFrom,
  type StoredRecord,
  SUBPROTOCOL,
  type SubscribedFrame,
  ValueFormat,
  type WireRecord,
} from "@kaiten/protocol";
import WebSocket from "ws";

/** Default time a wait helper waits before failing, in ms. */
export const DEFAULT_WAIT_MS = 20_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `condition` every few ms; fails with `what()` in the message after `timeoutMs`. */
export async function waitUntil(
  condition: () => boolean,
  what: () => string,
  timeoutMs = DEFAULT_WAIT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
    await sleep(2);
  }
}

/** An ERROR frame (§8) answering a request, as a rejection. */
export class ProtocolError extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(`${frame.code}: ${frame.message}`);
  }
}

export function socketUrl(baseUrl: string, topic: string, partition: number): string {
  const ws = baseUrl.replace(/^http/, "ws");
  return `${ws}/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/ws`;
}

type Answer = ProduceAckFrame | SubscribedFrame | AuthedFrame;

/** Credentials and headers for the upgrade request (PROTOCOL.md §15.3). */
export interface OpenOptions {
  /** Query parameters, such as `token` or `key`. */
  query?: Record<string, string>;
  /** Upgrade request headers, such as `authorization` or `origin`. */
  headers?: Record<string, string>;
}

interface Waiter {
  resolve(frame: Answer): void;
  reject(error: Error): void;
}

export interface SubscribeOptions {
  from: StartFrom;
  /** The offset for StartFrom.Offset, the timestamp for StartFrom.Timestamp. Default: 0 */
  position?: number;
  /** The log epoch the position belongs to. Default: 0 (unknown) */
  epoch?: number;
  /** Bytes the broker may send before it needs more credit. Default: 1 MiB */
  credit?: number;
  /** Only records with exactly this key. Default: all records */
  key?: Uint8Array | null;
}

/** One WebSocket to one partition: at most one subscription and any number of produces. */
export class Connection {
  /** ERROR frames that answered no pending request (requestId 0 or unknown). */
  readonly unsolicitedErrors: ErrorFrame[] = [];
  /** Resolves with the close code once the socket is closed, for whatever reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiting = new Map<number, Waiter>();
  private nextRequestId = 1;
  private subscription: Subscription | null = null;

  private constructor(private readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        this.failAll(new Error(`socket closed (${code} ${reason.toString()})`));
        resolve({ code, reason: reason.toString() });
      });
    });
    ws.on("message", (data) => this.receive(data as ArrayBuffer));
  }

  /** Opens a socket to one partition, offering the kaiten.v1 subprotocol (§9). */
  static open(
    baseUrl: string,
    topic: string,
    partition: number,
    options: OpenOptions = {},
  ): Promise<Connection> {
    const url = new URL(socketUrl(baseUrl, topic, partition));
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const ws = new WebSocket(url, SUBPROTOCOL, { headers: options.headers ?? {} });
    ws.binaryType = "arraybuffer";
    // Errors (a refused or reset connection) are followed by "close"; the listener keeps
    // them from becoming uncaught exceptions.
    const errors: Error[] = [];
    ws.on("error", (e) => errors.push(e));
    const connection = new Connection(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(connection));
      ws.once("close", () => reject(errors[0] ?? new Error("socket closed while opening")));
    });
  }

  /** Sends one batch (§5.1); resolves with the PRODUCE_ACK, rejects with its ERROR. */
  produce(records: readonly WireRecord[], producer?: ProducerIdentity): Promise<ProduceAckFrame> {
    const requestId = this.nextRequestId++;
    const frame = encodeFrame({
      type: FrameType.Produce,
      requestId,
      producerId: producer?.producerId ?? "",
      producerEpoch: producer?.producerEpoch ?? 0,
      sequence: producer?.sequence ?? 0,
      batch: encodeBatch(records),
    });
    return this.request(requestId, frame) as Promise<ProduceAckFrame>;
  }

  /** Subscribes (§5.2) and grants credit back as RECORDS frames are consumed (§5.3). */
  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.subscription) throw new Error("this connection already has a subscription");
    const requestId = this.nextRequestId++;
    const credit = options.credit ?? 1_048_576;
    const sub = new Subscription(requestId, (bytes) => this.grant(bytes));
    this.subscription = sub;
    const frame = encodeFrame({
      type: FrameType.Subscribe,
      requestId,
      from: options.from,
      position: options.position ?? 0,
      epoch: options.epoch ?? 0,
      credit,
      key: options.key ?? null,
    });
    try {
      sub.subscribed = (await this.request(requestId, frame)) as SubscribedFrame;
    } catch (error) {
      this.subscription = null;
      throw error;
    }
    return sub;
  }

  /** Sends AUTH with a new token (§15.4); resolves with AUTHED, rejects with its ERROR. */
  auth(token: string): Promise<AuthedFrame> {
    const requestId = this.nextRequestId++;
    const frame = encodeFrame({ type: FrameType.Auth, requestId, token });
    return this.request(requestId, frame) as Promise<AuthedFrame>;
  }

  /** Closes with 1000 and waits for the close handshake. */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, "done");
    await this.closed;
  }

  private request(requestId: number, frame: Uint8Array): Promise<Answer> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState !== WebSocket.OPEN) {
        reject(new Error(`socket is not open (readyState ${this.ws.readyState})`));
        return;
      }
      this.waiting.set(requestId, { resolve, reject });
      this.ws.send(frame, (error) => {
        if (!error) return;
        this.waiting.delete(requestId);
        reject(error);
      });
    });
  }

  private grant(bytes: number): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(encodeFrame({ type: FrameType.Credit, credit: bytes }));
  }

  private receive(data: ArrayBuffer): void {
    const bytes = new Uint8Array(data);
    const frame = decodeFrame(bytes);
    switch (frame.type) {
      case FrameType.ProduceAck:
      case FrameType.Subscribed:
      case FrameType.Authed:
        this.settle(frame.requestId, (w) => w.resolve(frame));
        break;
      case FrameType.Records:
        this.subscription?.receive(frame, bytes.length);
        break;
      case FrameType.Error:
        this.receiveError(frame);
        break;
      case FrameType.Unsubscribed:
        this.subscription = null;
        break;
      default:
        throw new Error(`the broker sent a client frame (type ${frame.type})`);
    }
  }

  private receiveError(frame: ErrorFrame): void {
    if (this.waiting.has(frame.requestId)) {
      this.settle(frame.requestId, (w) => w.reject(new ProtocolError(frame)));
    } else if (this.subscription && frame.requestId === this.subscription.requestId) {
      this.subscription.error = frame;
    } else {
      this.unsolicitedErrors.push(frame);
    }
  }

  private settle(requestId: number, fn: (w: Waiter) => void): void {
    const waiter = this.waiting.get(requestId);
    if (!waiter) throw new Error(`an answer to request ${requestId}, which is not pending`);
    this.waiting.delete(requestId);
    fn(waiter);
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.values()) w.reject(error);
    this.waiting.clear();
  }
}

/** Records received by one subscription, in the order they arrived. */
export class Subscription {
  subscribed!: SubscribedFrame;
  readonly records: StoredRecord[] = [];
  /** An ERROR frame that ended the subscription, if any. */
  error: ErrorFrame | null = null;
  /** Where the subscription continues: nextOffset of the last RECORDS frame. */
  nextOffset = -1;
  frames = 0;
  /** Called with the records of each RECORDS frame as it arrives (e.g. to time them). */
  onRecords: (records: StoredRecord[]) => void = () => {};

  constructor(
    readonly requestId: number,
    private readonly grant: (bytes: number) => void,
  ) {}

  receive(frame: RecordsFrame, frameBytes: number): void {
    const records = decodeChunk(frame.batches);
    for (const r of records) this.records.push(r);
    this.onRecords(records);
    this.nextOffset = frame.nextOffset;
    this.frames++;
    // The broker counts whole frames against credit; giving back what was consumed keeps
    // the window at its initial size.
    this.grant(frameBytes);
  }

  /** Waits until a RECORDS frame says the subscription continues at or after `offset`. */
  async waitForOffset(offset: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitUntil(
      () => this.nextOffset >= offset || this.error !== null,
      () => `subscription ${this.requestId} at ${this.nextOffset}, waiting for ${offset}`,
      timeoutMs,
    );
    if (this.error) throw new ProtocolError(this.error);
  }

  offsets(): number[] {
    return this.records.map((r) => r.offset);
  }
}

/** A batch ready to send: its records and, for an idempotent producer, its identity (§6). */
export interface OutgoingBatch {
  records: WireRecord[];
  producer?: ProducerIdentity;
}

export interface PipelineResult {
  /** The ack of each batch, by index; undefined for a batch that was not acknowledged. */
  acks: Array<ProduceAckFrame | undefined>;
  /** The first failure (an ERROR frame or the socket closing), or null when all were acked. */
  failure: Error | null;
}

/**
 * Sends `batches` in order with at most `window` unacknowledged at once, until all are
 * acknowledged or the first one fails; after a failure nothing more is sent.
 */
export async function pipeline(
  connection: Connection,
  batches: readonly OutgoingBatch[],
  window: number,
  onAck: (index: number, ack: ProduceAckFrame) => void = () => {},
): Promise<PipelineResult> {
  const result: PipelineResult = { acks: new Array(batches.length), failure: null };
  const inFlight = new Set<Promise<void>>();
  for (const [index, batch] of batches.entries()) {
    while (inFlight.size >= window) await Promise.race(inFlight);
    if (result.failure) break;
    const sent: Promise<void> = connection.produce(batch.records, batch.producer).then(
      (ack) => {
        result.acks[index] = ack;
        onAck(index, ack);
      },
      (error: Error) => {
        result.failure ??= error;
      },
    );
    const tracked = sent.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return result;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** A record with a JSON value (format 1), timestamped now. */
export function jsonRecord(value: unknown, key: string | null = null): WireRecord {
  return {
    key: key === null ? null : utf8.encode(key),
    value: utf8.encode(JSON.stringify(value)),
    format: ValueFormat.Json,
    headers: [],
    timestamp: Date.now(),
  };
}

/** The JSON value of a received record. */
export function jsonValue<T>(record: StoredRecord): T {
  return JSON.parse(utf8Decoder.decode(record.value)) as T;
}
