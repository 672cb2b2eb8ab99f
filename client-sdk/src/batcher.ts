/**
 * One partition's outgoing batches. Records gather in an open batch; it closes after
 * `lingerMs`, at `batchBytes`, when an acknowledgement frees a slot, or when a `produce`
 * call leaves it at SEND_BYTES or more while a slot is free (Kafka's batch.size: a producer
 * of large calls does not wait out the linger). Up to MAX_IN_FLIGHT batches are in flight
 * per partition; while all slots are taken, the open batch keeps growing, so batches adapt
 * to the round trip.
 *
 * With a producer id each batch carries a sequence, strict over WebSocket (§6 rule 4): 0,
 * then +1 per batch. Batches in flight are answered in the order sent (§5.1). When one is
 * refused, those sent after it are refused too (their sequence is not the next one) or are
 * still waiting: they are forgotten on this socket and sent again in order, never before the
 * one ahead of them. After a reconnect every unacknowledged batch is sent again with the same
 * sequence; the broker answers those it had stored as duplicates with their original offsets
 * (it remembers 8 batches per producer, more than MAX_IN_FLIGHT). A retry never stores a
 * record twice, and batches are never reordered.
 */
import type { ServerFrame, WireRecord } from "@kaiten/protocol";
import { ERROR, PRODUCE_ACK } from "./codes.ts";
import { KaitenClientError } from "./errors.ts";
import { encodeProduce, patchProduce } from "./frames.ts";
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

interface Batch {
  id: number;
  sequence: number;
  /** The PRODUCE frame; request id, epoch and sequence are written in at each send. */
  frame: Uint8Array;
  /** Whether the frame was handed to a socket: a resend patches a copy, not bytes a socket may still hold. */
  sent: boolean;
  /** Request id while in flight on the current socket; 0 otherwise. */
  requestId: number;
  /** Each record's call and its place in that call, in batch order. */
  calls: Call[];
  indexes: number[];
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
/**
 * Batches in flight per partition: Kafka's idempotent producer allows 5. It must stay below
 * the 8 batches a broker remembers per producer (§6 rule 2), so that every batch resent after
 * a reconnect is still recognized if it had been stored.
 */
export const MAX_IN_FLIGHT = 5;
/** An open batch of this many bytes goes at the end of a `produce` call if a slot is free. */
const SEND_BYTES = 16_384;

export function settle(call: Call, error: Error): void {
  if (call.settled) return;
  call.settled = true;
  call.reject(error);
}

export class Batcher implements LinkUser {
  link!: Link;
  readonly #o: BatcherOptions;
  #open: WireRecord[] = [];
  #calls: Call[] = [];
  #indexes: number[] = [];
  #bytes = 0;
  /** Closed batches in order; the first #inFlight of them are in flight on the current socket. */
  #queue: Batch[] = [];
  #inFlight = 0;
  /** After a refusal behind batches still in flight: send nothing until they are answered. */
  #drain = false;
  #sequence = 0;
  #epoch = 0;
  #ids = 0;
  #retries = 0;
  #stopped = false;
  #linger: ReturnType<typeof setTimeout> | undefined;
  #retry: ReturnType<typeof setTimeout> | undefined;
  /** flush() callers: each waits until the batches up to its id are settled. */
  #idle: Array<[number, () => void]> = [];

  constructor(
    readonly partition: number,
    o: BatcherOptions,
  ) {
    this.#o = o;
  }

  add(record: WireRecord, size: number, call: Call, index: number): void {
    const max = this.#o.batchBytes;
    // Closing first keeps every frame under the 1 MiB limit for records of up to 1 MB.
    if (this.#bytes + size > max) this.seal(true);
    this.#open.push(record);
    this.#calls.push(call);
    this.#indexes.push(index);
    this.#bytes += size + 16;
    if (this.#bytes >= max || this.#open.length >= MAX_RECORDS) this.seal(true);
    else this.#linger ??= setTimeout(() => this.seal(), this.#o.lingerMs);
  }

  /** A `produce` call added its records: a batch big enough goes now if a slot is free. */
  added(): void {
    if (this.#bytes >= SEND_BYTES) this.seal();
  }

  /** Closes the open batch; unless `force`, only when a slot is free (it may grow meanwhile). */
  seal(force?: boolean): void {
    clearTimeout(this.#linger);
    this.#linger = undefined;
    if (!this.#open.length || (!force && this.#queue.length >= MAX_IN_FLIGHT)) return;
    this.#queue.push({
      id: ++this.#ids,
      sequence: this.#sequence++,
      frame: encodeProduce(this.#o.producerId, this.#open),
      sent: false,
      requestId: 0,
      calls: this.#calls,
      indexes: this.#indexes,
    });
    this.#open = [];
    this.#calls = [];
    this.#indexes = [];
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
    // Every batch in flight goes again on the next socket, in order, with the same sequence.
    this.#rewind(0);
    if (fatal) this.#o.dead(error);
  }

  frame(f: ServerFrame): boolean {
    if (f.type !== PRODUCE_ACK && f.type !== ERROR) return false;
    let i = 0;
    while (i < this.#inFlight && this.#queue[i]?.requestId !== f.requestId) i++;
    // Not ours, or an answer to a frame forgotten after a refusal ahead of it.
    if (i === this.#inFlight) return false;
    if (f.type === PRODUCE_ACK) {
      this.#retries = 0;
      const batch = this.#queue[i] as Batch;
      batch.calls.forEach((call, k) => {
        call.acks[batch.indexes[k] as number] = {
          partition: this.partition,
          offset: f.baseOffset + k,
        };
        if (--call.left === 0 && !call.settled) call.resolve(call.acks);
      });
      this.#inFlight--;
      this.#finish(i);
      this.seal();
    } else this.#failed(i, new KaitenClientError(f.code, f.message, f.retriable, f.detail));
    this.#pump();
    return true;
  }

  /** Batch `i` was refused. Those after it are forgotten on this socket: they go again, in order. */
  #failed(i: number, error: KaitenClientError): void {
    this.#rewind(i);
    // Batches before it are still in flight: wait for their answers before sending again.
    this.#drain = i > 0;
    // PRODUCER_FENCED too is refused for each batch: a newer epoch of this producer id exists elsewhere.
    const code = error.code;
    if (error.retriable) {
      clearTimeout(this.#retry);
      this.#retry = setTimeout(
        () => {
          this.#retry = undefined;
          this.#pump();
        },
        this.#o.backoff(this.#retries++),
      );
    } else if (code === "SEQUENCE_GAP") {
      // Behind batches in flight, the gap may be theirs: it is sent again once they are answered.
      // First in line, every earlier batch was acknowledged, yet the broker expects another
      // sequence: it forgot this producer (it keeps 10,000, §6). A new epoch starts over at 0.
      if (i > 0) return;
      this.#epoch++;
      this.#sequence = 0;
      for (const b of this.#queue) b.sequence = this.#sequence++;
    } else {
      this.#finish(i, error);
      // DUPLICATE_TOO_OLD used its sequence; any other refusal did not: later batches move up.
      if (code !== "DUPLICATE_TOO_OLD") {
        for (const b of this.#queue.slice(i)) b.sequence--;
        this.#sequence--;
      }
    }
  }

  /** Forgets batches from `i` on as in flight: their answers are not waited for, and they are sent again. */
  #rewind(i: number): void {
    for (const b of this.#queue.slice(i, this.#inFlight)) b.requestId = 0;
    this.#inFlight = Math.min(this.#inFlight, i);
    if (!this.#inFlight) this.#drain = false;
  }

  /** Fails everything queued here (the client closed, or the partition is gone). */
  failAll(error: Error): void {
    clearTimeout(this.#linger);
    clearTimeout(this.#retry);
    // Nothing is sent from here on, so no record is reported failed and then stored anyway.
    this.#stopped = true;
    this.seal(true);
    while (this.#queue.length) this.#finish(0, error);
  }

  #pump(): void {
    if (this.#stopped || this.#retry || !this.link?.isOpen || (this.#drain && this.#inFlight))
      return;
    this.#drain = false;
    while (this.#inFlight < Math.min(this.#queue.length, MAX_IN_FLIGHT)) {
      const batch = this.#queue[this.#inFlight] as Batch;
      const requestId = this.#o.nextRequestId();
      if (batch.sent) batch.frame = batch.frame.slice();
      patchProduce(batch.frame, requestId, this.#epoch, batch.sequence);
      if (!this.link.send(batch.frame)) return;
      batch.sent = true;
      batch.requestId = requestId;
      this.#inFlight++;
    }
  }

  /** Settles batch `i`: failed with `error`, or acknowledged already. */
  #finish(i: number, error?: Error): void {
    const [batch] = this.#queue.splice(i, 1) as [Batch];
    if (error) for (const call of batch.calls) settle(call, error);
    this.#o.settled(batch.calls.length);
    // 1 / 0: Infinity, in fewer bytes of the size-budgeted entry.
    const first = this.#queue[0]?.id ?? 1 / 0;
    this.#idle = this.#idle.filter(([id, resolve]) => id >= first || void resolve());
  }
}
