/**
 * One partition of a subscription over its link: SUBSCRIBE on every (re)open from the next
 * offset not yet received, credit granted back as records are taken (§5.3), and the two
 * ways a position can be lost reported, never skipped: OFFSET_OUT_OF_RANGE becomes a gap
 * (the offsets retention removed) and EPOCH_MISMATCH a reset (the log was recreated).
 */
import type { ServerFrame, StartFrom } from "@kaiten/protocol";
import {
  CREDIT,
  ERROR,
  FROM_EARLIEST,
  FROM_OFFSET,
  PRODUCE_ACK,
  RECORDS,
  SUBSCRIBE,
  SUBSCRIBED,
  UNSUBSCRIBE,
  UNSUBSCRIBED,
} from "./codes.ts";
import { fromFrame, type KaitenClientError } from "./errors.ts";
import { encodeClientFrame } from "./frames.ts";
import type { Link, LinkUser } from "./link.ts";
import { Chunk } from "./records.ts";

export interface Position {
  /** The next offset to read. */
  offset: number;
  /** The log epoch the offset belongs to; 0 when unknown. */
  epoch: number;
}
export type Positions = Record<number, Position>;

/** Offsets retention removed before they were read: `[from, to)`. */
export interface Gap {
  partition: number;
  from: number;
  to: number;
}

/** The position no longer means anything (the log was recreated): reading starts over at the earliest offset. */
export interface Reset {
  partition: number;
  previousEpoch: number;
  epoch: number;
}

/** Where a partition starts when there is no position to resume from (§5.2). */
export interface Start {
  from: StartFrom;
  position: number;
}

/**
 * What the reader hands its subscription, in order: one per RECORDS frame, whose records the
 * subscription reads in place, and marks. Once its records are taken, a frame's item is a
 * mark too: its credit can be granted back, and the position moves to the frame's next
 * offset, past records a key filter left out. A mark may also tell that a gap or a reset
 * moved the position.
 */
export interface Item {
  reader: Reader;
  epoch: number;
  records?: Chunk;
  next?: number;
  credit?: number;
  turn?: number;
  gap?: Gap;
  reset?: Reset;
}

export interface ReaderHost {
  /** Bytes granted at subscribe. */
  credit: number;
  key: Uint8Array | null;
  nextRequestId(): number;
  backoff(attempt: number): number;
  push(item: Item): void;
  subscribed(reader: Reader): void;
  fail(error: KaitenClientError): void;
}

export class Reader implements LinkUser {
  link!: Link;
  /** Position handed to the application; undefined until the broker says where reading starts. */
  position: Position | undefined;
  readonly partition: number;
  readonly #start: Start;
  readonly #host: ReaderHost;
  /** The next offset to ask the broker for (records received may still wait in the buffer). */
  #next: number | undefined;
  #epoch: number;
  #requestId = 0;
  /** Changes with every SUBSCRIBE, so credit of frames from an earlier one is not granted twice. */
  #turn = 0;
  #owed = 0;
  #retries = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #gapFrom: number | undefined;
  #reset: Reset | undefined;

  constructor(partition: number, start: Start, host: ReaderHost, resume?: Position) {
    this.partition = partition;
    this.#start = start;
    this.#host = host;
    this.position = resume && { ...resume };
    this.#next = resume?.offset;
    this.#epoch = resume?.epoch ?? 0;
  }

  opened(): void {
    clearTimeout(this.#retry);
    const at = this.#next;
    this.#requestId = this.#host.nextRequestId();
    this.#turn++;
    this.#owed = 0;
    this.link.send(
      encodeClientFrame({
        type: SUBSCRIBE,
        requestId: this.#requestId,
        ...(at === undefined ? this.#start : { from: FROM_OFFSET, position: at }),
        epoch: this.#epoch,
        credit: this.#host.credit,
        key: this.#host.key,
      }),
    );
  }

  dropped(error: KaitenClientError, fatal: boolean): void {
    this.#requestId = 0;
    if (fatal) this.#host.fail(error);
  }

  frame(f: ServerFrame, bytes: number): boolean {
    if (f.type === RECORDS) {
      if (this.#requestId) this.#records(f.batches, f.nextOffset, bytes);
      return true;
    }
    if (f.type === UNSUBSCRIBED) return true;
    if (f.type === PRODUCE_ACK || f.requestId !== this.#requestId || !this.#requestId) return false;
    if (f.type === SUBSCRIBED) this.#subscribed(f.epoch, f.startOffset);
    else if (f.type === ERROR) this.#refused(fromFrame(f));
    return true;
  }

  #subscribed(epoch: number, start: number): void {
    const mark = { reader: this, next: start, epoch };
    this.#retries = 0;
    if (this.#reset) this.#host.push({ ...mark, reset: { ...this.#reset, epoch } });
    else if (this.#gapFrom !== undefined && start > this.#gapFrom) {
      this.#host.push({
        ...mark,
        gap: { partition: this.partition, from: this.#gapFrom, to: start },
      });
    }
    this.#gapFrom = this.#reset = undefined;
    this.#epoch = epoch;
    this.#next = start;
    this.position ??= { offset: start, epoch };
    this.#host.subscribed(this);
  }

  #records(chunk: Uint8Array, next: number, bytes: number): void {
    const from = this.#next as number;
    this.#next = Math.max(from, next);
    // The broker sends each offset once per subscription; `from` guards the seams between them.
    this.#host.push({
      reader: this,
      records: new Chunk(chunk, from),
      next: this.#next,
      epoch: this.#epoch,
      credit: bytes,
      turn: this.#turn,
    });
  }

  #refused(error: KaitenClientError): void {
    this.#requestId = 0;
    const asked = this.#next ?? 0;
    const { code, detail } = error;
    const reset = (epoch: number) => {
      this.#reset ??= { partition: this.partition, previousEpoch: this.#epoch, epoch };
      this.#next = undefined;
      this.#epoch = 0;
      Object.assign(this.#start, { from: FROM_EARLIEST, position: 0 });
    };
    if (code === "OFFSET_OUT_OF_RANGE") {
      // Below the earliest offset, the records in between are gone: a gap, then on from the
      // earliest. Beyond the high watermark, the position belongs to no record of this log.
      if (asked < detail) {
        this.#gapFrom ??= asked;
        this.#next = detail;
      } else reset(this.#epoch);
    } else if (code === "EPOCH_MISMATCH") reset(detail);
    else if (!error.retriable) {
      this.#host.fail(error);
      return;
    }
    this.#retry = setTimeout(
      () => this.link.isOpen && this.opened(),
      error.retriable ? this.#host.backoff(this.#retries++) : 0,
    );
  }

  /** The application took records up to `next`, in the log of `epoch`: the position moves (in place: no object per record). */
  moved(next: number, epoch: number): void {
    const p = this.position;
    if (p) {
      p.offset = next;
      p.epoch = epoch;
    } else this.position = { offset: next, epoch };
  }

  /** The application took a frame's records or a mark: move the position and grant credit back. */
  took(item: Item): void {
    const { epoch, next, credit } = item;
    if (next !== undefined) this.moved(next, epoch);
    if (!credit || item.turn !== this.#turn || !this.#requestId) return;
    // Granting in halves keeps the broker sending while the consumer keeps up, in few frames.
    this.#owed += credit;
    if (this.#owed * 2 >= this.#host.credit) {
      this.link.send(encodeClientFrame({ type: CREDIT, credit: this.#owed }));
      this.#owed = 0;
    }
  }

  /** Stops reading: UNSUBSCRIBE if the socket stays open for a producer. */
  stop(): void {
    clearTimeout(this.#retry);
    if (this.#requestId && this.link.users.size > 1) {
      this.link.send(
        encodeClientFrame({ type: UNSUBSCRIBE, requestId: this.#host.nextRequestId() }),
      );
    }
    this.#requestId = 0;
  }
}
