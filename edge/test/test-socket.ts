/**
 * The client end of a broker WebSocket for tests: opened through the Worker (SELF), server
 * frames decoded into a queue, `next`/`waitFor` with timeouts, and frame builders.
 */
import { SELF } from "cloudflare:test";
import {
  type ClientFrame,
  decodeChunk,
  decodeFrame,
  encodeBatch,
  encodeFrame,
  FrameType,
  Limits,
  type ProducerIdentity,
  RECORDS_HEADER_BYTES,
  type ServerFrame,
  StartFrom,
  type StoredRecord,
  SUBPROTOCOL,
  type WireRecord,
} from "@kaiten/protocol";

export const ORIGIN = "http://kaiten";
/** How long a helper waits for a frame before failing the test. Default: 5 s. */
export const FRAME_TIMEOUT_MS = 5_000;

const utf8 = new TextEncoder();

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export type ServerFrameType = ServerFrame["type"];
export type FrameOf<T extends ServerFrameType> = Extract<ServerFrame, { type: T }>;

/** A type guard for frames of one type, for `waitFor` and `filter`. */
export function isType<T extends ServerFrameType>(type: T) {
  return (f: ServerFrame): f is FrameOf<T> => f.type === type;
}

export interface Closed {
  code: number;
  reason: string;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(FrameType).map(([name, type]) => [type, name]),
);

export function describeFrame(f: ServerFrame): string {
  const name = TYPE_NAMES[f.type] ?? `0x${f.type.toString(16)}`;
  if (f.type === FrameType.Error) return `Error(${f.code} detail=${f.detail}: ${f.message})`;
  if (f.type === FrameType.Records) return `Records(next=${f.nextOffset} hw=${f.highWatermark})`;
  const { type: _, ...rest } = f;
  return `${name}${JSON.stringify(rest)}`;
}

/** Options of a SUBSCRIBE; anything left out takes the value in `subscribeFrame`. */
export interface SubscribeOptions {
  requestId?: number;
  from?: StartFrom;
  position?: number;
  epoch?: number;
  /** Default: the most a subscriber may hold (Limits.maxCreditBytes). */
  credit?: number;
  key?: string | null;
}

/**
 * The client end of a broker WebSocket. Server frames are decoded as they arrive and queued;
 * `next` takes them in order, `waitFor` picks the first that matches. Every wait has a timeout
 * and fails at once, naming what was queued, if the socket closes first.
 */
export class TestSocket {
  private readonly frames: ServerFrame[] = [];
  private readonly texts: string[] = [];
  private readonly wakers = new Set<() => void>();
  private closeInfo: Closed | null = null;
  private decodeError: unknown = null;
  private requestIds = 1;
  readonly closed: Promise<Closed>;

  constructor(
    readonly ws: WebSocket,
    readonly response: Response,
  ) {
    let resolveClosed!: (c: Closed) => void;
    this.closed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    ws.addEventListener("message", (e) => {
      if (typeof e.data === "string") this.texts.push(e.data);
      else this.receive(new Uint8Array(e.data as ArrayBuffer));
      this.wake();
    });
    ws.addEventListener("close", (e) => {
      this.closeInfo = { code: e.code, reason: e.reason };
      resolveClosed(this.closeInfo);
      this.wake();
    });
    // With this compatibility date binary messages arrive as Blobs by default; ArrayBuffers keep
    // them synchronous and in order.
    ws.binaryType = "arraybuffer";
    ws.accept();
  }

  private receive(bytes: Uint8Array): void {
    try {
      const f = decodeFrame(bytes);
      if (f.type < 0x80) throw new Error(`the server sent client frame type ${f.type}`);
      this.frames.push(f as ServerFrame);
    } catch (error) {
      this.decodeError ??= error;
    }
  }

  private wake(): void {
    for (const w of this.wakers) w();
  }

  get isClosed(): boolean {
    return this.closeInfo !== null;
  }

  /** Frames received and not yet taken. */
  get queued(): readonly ServerFrame[] {
    return this.frames;
  }

  newRequestId(): number {
    return this.requestIds++;
  }

  send(frame: ClientFrame): void {
    this.ws.send(encodeFrame(frame));
  }

  sendRaw(data: Uint8Array | string): void {
    this.ws.send(data);
  }

  close(code = 1000): void {
    try {
      this.ws.close(code, "test done");
    } catch {
      // Already closed by the server.
    }
  }

  private async until<T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.decodeError) throw new Error(`undecodable server frame: ${this.decodeError}`);
      const found = find();
      if (found !== undefined) return found;
      if (this.closeInfo) {
        const { code, reason } = this.closeInfo;
        throw new Error(`socket closed (${code} ${reason}) while waiting for ${what}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const queued = this.frames.map(describeFrame).join(", ") || "nothing";
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; queued: ${queued}`);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.wakers.add(done);
      });
    }
  }

  /** The next frame in arrival order; fails if `type` is given and the frame is another. */
  async next(): Promise<ServerFrame>;
  async next<T extends ServerFrameType>(type: T, timeoutMs?: number): Promise<FrameOf<T>>;
  async next(type?: ServerFrameType, timeoutMs = FRAME_TIMEOUT_MS): Promise<ServerFrame> {
    const what = type === undefined ? "a frame" : (TYPE_NAMES[type] ?? String(type));
    const f = await this.until(() => this.frames.shift(), what, timeoutMs);
    if (type !== undefined && f.type !== type) {
      throw new Error(`expected ${what}, got ${describeFrame(f)}`);
    }
    return f;
  }

  /** Takes the first queued (or next arriving) frame that matches, leaving the others queued. */
  async waitFor<F extends ServerFrame>(
    match: (f: ServerFrame) => f is F,
    what: string,
    timeoutMs?: number,
  ): Promise<F>;
  async waitFor(
    match: (f: ServerFrame) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<ServerFrame>;
  async waitFor(
    match: (f: ServerFrame) => boolean,
    what: string,
    timeoutMs = FRAME_TIMEOUT_MS,
  ): Promise<ServerFrame> {
    const take = () => {
      const i = this.frames.findIndex(match);
      return i < 0 ? undefined : this.frames.splice(i, 1)[0];
    };
    return this.until(take, what, timeoutMs);
  }

  /** The answer (any frame type) to the request with this id. */
  reply(requestId: number, timeoutMs?: number): Promise<ServerFrame> {
    return this.waitFor(
      (f) => "requestId" in f && f.requestId === requestId,
      `the reply to request ${requestId}`,
      timeoutMs,
    );
  }

  async nextText(timeoutMs = FRAME_TIMEOUT_MS): Promise<string> {
    return this.until(() => this.texts.shift(), "a text message", timeoutMs);
  }

  /** Waits `ms` and returns (and takes) whatever frames arrived meanwhile. */
  async framesWithin(ms: number): Promise<ServerFrame[]> {
    await sleep(ms);
    if (this.decodeError) throw new Error(`undecodable server frame: ${this.decodeError}`);
    return this.frames.splice(0);
  }

  /** Sends a PRODUCE of `records` and returns its request id. */
  produce(records: readonly WireRecord[], producer?: ProducerIdentity): number {
    const requestId = this.newRequestId();
    this.send(produceFrame(requestId, encodeBatch(records), producer));
    return requestId;
  }

  /** Produces and returns the PRODUCE_ACK; any other answer fails. */
  async produceAck(records: readonly WireRecord[], producer?: ProducerIdentity) {
    const reply = await this.reply(this.produce(records, producer));
    if (reply.type !== FrameType.ProduceAck) throw new Error(`got ${describeFrame(reply)}`);
    return reply;
  }

  /** Produces each batch after the previous one was acknowledged; returns the acks. */
  async produceEach(batches: ReadonlyArray<readonly WireRecord[]>) {
    const acks: Array<FrameOf<typeof FrameType.ProduceAck>> = [];
    for (const batch of batches) acks.push(await this.produceAck(batch));
    return acks;
  }

  /** Sends a SUBSCRIBE and returns the answer: SUBSCRIBED or ERROR. */
  async subscribe(options: SubscribeOptions = {}): Promise<ServerFrame> {
    const frame = subscribeFrame({ requestId: this.newRequestId(), ...options });
    this.send(frame);
    return this.reply(frame.requestId);
  }

  /** Subscribes and returns the SUBSCRIBED frame; an ERROR fails. */
  async subscribed(options: SubscribeOptions = {}) {
    const reply = await this.subscribe(options);
    if (reply.type !== FrameType.Subscribed) throw new Error(`got ${describeFrame(reply)}`);
    return reply;
  }

  credit(bytes: number): void {
    this.send({ type: FrameType.Credit, credit: bytes });
  }

  /**
   * Takes RECORDS frames in order until one continues at or after `offset`, and returns their
   * records. Any other frame on the way fails: a subscriber socket carries only records.
   */
  async recordsUntil(offset: number, timeoutMs = FRAME_TIMEOUT_MS) {
    const records: StoredRecord[] = [];
    const frames: Array<FrameOf<typeof FrameType.Records>> = [];
    while ((frames[frames.length - 1]?.nextOffset ?? -1) < offset) {
      const f = await this.next(FrameType.Records, timeoutMs);
      frames.push(f);
      records.push(...decodeChunk(f.batches));
    }
    return { records, frames };
  }
}

export function produceFrame(
  requestId: number,
  batch: Uint8Array,
  producer?: ProducerIdentity,
): ClientFrame {
  return {
    type: FrameType.Produce,
    requestId,
    producerId: producer?.producerId ?? "",
    producerEpoch: producer?.producerEpoch ?? 0,
    sequence: producer?.sequence ?? 0,
    batch,
  };
}

export function subscribeFrame(o: SubscribeOptions & { requestId: number }) {
  return {
    type: FrameType.Subscribe,
    requestId: o.requestId,
    from: o.from ?? StartFrom.Earliest,
    position: o.position ?? 0,
    epoch: o.epoch ?? 0,
    credit: o.credit ?? Limits.maxCreditBytes,
    key: o.key == null ? null : utf8.encode(o.key),
  } satisfies ClientFrame;
}

/** Bytes a RECORDS frame took on the wire: what the server charged against credit (§5.3). */
export function frameBytes(f: FrameOf<typeof FrameType.Records>): number {
  return RECORDS_HEADER_BYTES + f.batches.length;
}

export function wsUrl(topic: string, partition = 0): string {
  return `${ORIGIN}/v1/topics/${encodeURIComponent(topic)}/partitions/${partition}/ws`;
}

/** Opens a WebSocket to a partition through the Worker, offering the kaiten.v1 subprotocol. */
export function openSocket(topic: string, partition = 0): Promise<TestSocket> {
  return openUrl(wsUrl(topic, partition));
}

/** Opens a WebSocket at `url`, offering `protocols` (none when null). Default: kaiten.v1. */
export async function openUrl(url: string, protocols: string | null = SUBPROTOCOL) {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (protocols !== null) headers["Sec-WebSocket-Protocol"] = protocols;
  const response = await SELF.fetch(url, { headers });
  const ws = response.webSocket;
  if (!ws) throw new Error(`no WebSocket: HTTP ${response.status} ${await response.text()}`);
  return new TestSocket(ws, response);
}
