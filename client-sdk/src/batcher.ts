/**
 * One partition's outgoing batches. Records gather in an open batch; it closes after
 * `lingerMs` or at `batchBytes`, and while a batch is in flight the next one keeps growing
 * (up to `batchBytes`), so batches adapt to the round trip. One batch is in flight per
 * partition: an error or a dropped socket then never leaves later batches out of step.
 *
 * With a producer id each batch carries a sequence, strict over WebSocket (§6 rule 4): 0,
 * then +1 per batch. After a reconnect the unacknowledged batch is sent again with the same
 * sequence; if it had been stored, the broker answers it as a duplicate with its original
 * offsets. A retry never stores a record twice.
 */
import { encodeBatch, FrameType, type ServerFrame, type WireRecord } from "@kaiten/protocol";
import { KaitenClientError } from "./errors.ts";
import { encodeClientFrame } from "./frames.ts";
import type { Link, LinkUser } from "./link.ts";

export interface Ack {
  partition: number;
  offset: number;
}

/** One `produce` call: settles once every record is acknowledged, or at the first failure. */
export interface Call {
  acks: Ack[];
  left: number;
  resolve(acks: Ack[]): void;
  reject(error: Error): void;
  settled?: boolean;
}

export interface Entry {
  call: Call;
  /** The record's place in its call. */
  index: number;
}

interface Batch {
  id: number;
  sequence: number;
  bytes: Uint8Array;
  entries: Entry[];
}

export interface BatcherOptions {
  /** How long a record may wait for others to join its batch. Default: 5 */
  lingerMs: number;
  /** A batch closes once its records reach this many bytes. Default: 262_144 */
  batchBytes: number;
  /**
   * The idempotent producer's id; empty for a producer without idempotence (§5.1). Default: a
   * random id per client (ClientOptions.producerId), empty with `idempotent: false`
   */
  producerId: string;
  nextRequestId(): number;
  backoff(attempt: number): number;
  /** A batch was closed (the keyless partition rotates). */
  sealed(): void;
  /** Records left the queue, acknowledged or failed. */
  settled(count: number): void;
  /** The partition can no longer be produced to (fatal close). */
  dead(error: KaitenClientError): void;
}

/** Most records in one batch (§7). */
const MAX_RECORDS = 10_000;

export function settle(call: Call, error: Error): void {
  if (call.settled) return;
  call.settled = true;
  call.reject(error);
}

export class Batcher implements LinkUser {
  link!: Link;
  readonly #o: BatcherOptions;
  #open: WireRecord[] = [];
  #entries: Entry[] = [];
  #bytes = 0;
  /** Closed batches in order; the first may be in flight. */
  #queue: Batch[] = [];
  /** Request id of the first batch on the current socket; 0 when it is not in flight. */
  #sent = 0;
  #sequence = 0;
  #epoch = 0;
  #ids = 0;
  #retries = 0;
  #stopped = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** flush() callers: each waits until the batch with its id is settled. */
  #idle: Array<[number, () => void]> = [];

  constructor(
    readonly partition: number,
    o: BatcherOptions,
  ) {
    this.#o = o;
  }

  add(record: WireRecord, size: number, entry: Entry): void {
    // Closing first keeps every frame under the 1 MiB limit for records of up to 1 MB.
    if (this.#bytes + size > this.#o.batchBytes) this.seal(true);
    this.#open.push(record);
    this.#entries.push(entry);
    this.#bytes += size + 16;
    if (this.#bytes >= this.#o.batchBytes || this.#open.length >= MAX_RECORDS) this.seal(true);
    else this.#linger ??= setTimeout(() => this.seal(), this.#o.lingerMs);
  }

  /** Closes the open batch; unless `force`, only when nothing waits ahead of it (it may grow meanwhile). */
  seal(force?: boolean): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    if (!this.#open.length || (!force && this.#queue.length)) return;
    const bytes = encodeBatch(this.#open);
    this.#queue.push({
      id: ++this.#ids,
      sequence: this.#sequence++,
      bytes,
      entries: this.#entries,
    });
    this.#open = [];
    this.#entries = [];
    this.#bytes = 0;
    this.#o.sealed();
    this.#pump();
  }

  /** Resolves once every record added so far is acknowledged or failed. */
  idle(): Promise<void> {
    this.seal(true);
    const last = this.#queue.at(-1);
    return new Promise((resolve) => (last ? this.#idle.push([last.id, resolve]) : resolve()));
  }

  opened(): void {
    this.#pump();
  }

  dropped(error: KaitenClientError, fatal: boolean): void {
    // The batch in flight goes again on the next socket, with the same sequence.
    this.#sent = 0;
    if (fatal) this.#o.dead(error);
  }

  frame(f: ServerFrame): boolean {
    if (
      (f.type !== FrameType.ProduceAck && f.type !== FrameType.Error) ||
      f.requestId !== this.#sent
    )
      return false;
    this.#sent = 0;
    const batch = this.#queue[0] as Batch;
    if (f.type === FrameType.ProduceAck) {
      this.#retries = 0;
      batch.entries.forEach((e, k) => {
        e.call.acks[e.index] = { partition: this.partition, offset: f.baseOffset + k };
        if (--e.call.left === 0 && !e.call.settled) e.call.resolve(e.call.acks);
      });
      this.#finish();
      this.seal();
    } else this.#failed(new KaitenClientError(f.code, f.message, f.retriable, f.detail));
    this.#pump();
    return true;
  }

  #failed(error: KaitenClientError): void {
    // PRODUCER_FENCED too is refused for each batch: a newer epoch of this producer id exists elsewhere.
    const code = error.code;
    if (error.retriable) {
      this.#retry = setTimeout(
        () => {
          this.#retry = undefined;
          this.#pump();
        },
        this.#o.backoff(this.#retries++),
      );
    } else if (code === "SEQUENCE_GAP") {
      // Every earlier batch was acknowledged, yet the broker expects another sequence: it
      // forgot this producer (it keeps 10,000, §6). A new epoch starts over at 0.
      this.#epoch++;
      this.#sequence = 0;
      for (const b of this.#queue) b.sequence = this.#sequence++;
    } else {
      this.#finish(error);
      // DUPLICATE_TOO_OLD used its sequence; any other refusal did not: later batches move up.
      if (code !== "DUPLICATE_TOO_OLD") {
        for (const b of this.#queue) b.sequence--;
        this.#sequence--;
      }
    }
  }

  /** Fails everything queued here (the client closed, or the partition is gone). */
  failAll(error: Error): void {
    clearTimeout(this.#linger);
    clearTimeout(this.#retry);
    // Nothing is sent from here on, so no record is reported failed and then stored anyway.
    this.#stopped = true;
    this.seal(true);
    while (this.#queue.length) this.#finish(error);
  }

  #pump(): void {
    const batch = this.#queue[0];
    if (!batch || this.#stopped || this.#sent || this.#retry || !this.link?.isOpen) return;
    const requestId = this.#o.nextRequestId();
    const frame = encodeClientFrame({
      type: FrameType.Produce,
      requestId,
      producerId: this.#o.producerId,
      producerEpoch: this.#epoch,
      sequence: batch.sequence,
      batch: batch.bytes,
    });
    if (this.link.send(frame)) this.#sent = requestId;
  }

  /** Settles the first batch: failed with `error`, or acknowledged already. */
  #finish(error?: Error): void {
    const batch = this.#queue.shift() as Batch;
    if (error) for (const e of batch.entries) settle(e.call, error);
    this.#o.settled(batch.entries.length);
    this.#idle = this.#idle.filter(([id, resolve]) => id > batch.id || void resolve());
  }
}
