/**
 * A subscription to some or all partitions of a topic: an async iterable first, a callback
 * second (an async callback delays the next record: backpressure down to the broker through
 * credit), with positions to save and resume from, and gap and reset events when a position
 * could not be kept.
 */
import type { StartFrom } from "@kaiten/protocol";
import { FROM_EARLIEST, FROM_LATEST, FROM_TIMESTAMP } from "./codes.ts";
import { closedError, type KaitenClientError } from "./errors.ts";
import { deferred, Emitter } from "./events.ts";
import type { Link, LinkUser } from "./link.ts";
import { type Host, partitioner } from "./producer.ts";
import {
  type Gap,
  type Item,
  type Position,
  type Positions,
  Reader,
  type Reset,
  type Start,
} from "./reader.ts";
import { keyBytes, type Rec } from "./serde.ts";

/** Where reading starts, for partitions without a saved position. */
export type From =
  | "earliest"
  | "latest"
  /** Offsets per partition; partitions left out start at the earliest offset. */
  | { offsets: Record<number, number> }
  /** The first record at or after this time (ms since the Unix epoch), per partition. */
  | { timestamp: number }
  /** Positions saved from `positions()`; partitions left out start at the earliest offset. */
  | { positions: Positions };

/** localStorage, sessionStorage, or anything with the same two methods. */
export interface PositionStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface SubscribeOptions {
  /** Where to start without a saved position. Default: "latest" */
  from?: From;
  /** Partitions to read. Default: all of them, or only the key's partition when `key` is set */
  partitions?: number[];
  /** Only records with exactly this key. Default: every record */
  key?: string | Uint8Array;
  /** Positions loaded from `storage` at start and saved there as records are taken. Default: none */
  resume?: { storage: PositionStorage; key: string };
  /** Bytes the broker may send ahead of the consumer, per partition (§5.3). Default: 1_048_576 */
  creditBytes?: number;
}

export interface SubscriptionEvents {
  gap: Gap;
  reset: Reset;
}

export type RecordCallback<T> = (record: Rec<T>) => unknown;

export interface SubscriptionHost extends Host {
  link(topic: string, partition: number, user: LinkUser, reader?: boolean): Link;
  forget(sub: Subscription): void;
}

export class Subscription<T = unknown>
  extends Emitter<SubscriptionEvents>
  implements AsyncIterable<Rec<T>>
{
  readonly topic: string;
  /** Resolves when the subscription ends: void after `close()`, the Error that ended it otherwise. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  readonly #host: SubscriptionHost;
  readonly #o: SubscribeOptions;
  readonly #end = deferred<Error | undefined>();
  readonly #ready = deferred<void>();
  #readers: Reader[] = [];
  #waiting = new Set<Reader>();
  /** Frames and marks received, not yet taken: from #head on. */
  #buffer: Item[] = [];
  #head = 0;
  /** The frame the last record handed out came from. */
  #current: Item | undefined;
  #offset = 0;
  #wake: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(
    host: SubscriptionHost,
    topic: string,
    o: SubscribeOptions,
    callback?: RecordCallback<T>,
  ) {
    super();
    this.#host = host;
    this.topic = topic;
    this.#o = o;
    this.closed = this.#end.promise;
    // ready() may never be called; its rejection must not be reported as unhandled.
    this.#ready.promise.catch(() => {});
    this.#begin().catch((e) => this.#fail(e));
    if (callback) this.#run(callback);
  }

  async #begin(): Promise<void> {
    const o = this.#o;
    const key = keyBytes(o.key);
    const [{ partitionCount: n }, k] = await Promise.all([
      this.#host.topicInfo(this.topic),
      key && partitioner(),
    ]);
    if (this.#ended) return;
    // A partition that does not exist is refused by the broker (close code 4008): the subscription ends with it.
    const partitions = new Set(
      o.partitions ??
        (key && k ? [k.partitionForKey(key, n)] : Array.from({ length: n }, (_, p) => p)),
    );
    const saved = this.#load();
    const host = this.#host;
    const readerHost = {
      nextRequestId: () => host.nextRequestId(),
      backoff: (attempt: number) => host.backoff(attempt),
      credit: o.creditBytes ?? 1_048_576,
      key,
      push: (item: Item) => {
        this.#buffer.push(item);
        const wake = this.#wake;
        this.#wake = undefined;
        wake?.();
      },
      subscribed: (r: Reader) => {
        if (this.#waiting.delete(r) && !this.#waiting.size) this.#ready.resolve();
      },
      fail: (e: KaitenClientError) => this.#fail(e),
    };
    for (const p of partitions) {
      const [start, resume] = startOf(o.from ?? "latest", p, saved);
      this.#readers.push(new Reader(p, start, readerHost, resume));
    }
    this.#waiting = new Set(this.#readers);
    if (!this.#readers.length) this.#ready.resolve();
    for (const r of this.#readers) this.#host.link(this.topic, r.partition, r, true);
  }

  #load(): Positions | undefined {
    const r = this.#o.resume;
    try {
      return JSON.parse(r?.storage.getItem(r.key) ?? "null") ?? undefined;
    } catch {
      return undefined;
    }
  }

  #save(): void {
    const r = this.#o.resume;
    try {
      r?.storage.setItem(r.key, JSON.stringify(this.positions()));
    } catch (error) {
      // A full or blocked storage must not stop reading; the next save may succeed.
      console.error(error);
    }
  }

  /** Resolves once every partition is subscribed; rejects if the subscription ends first. */
  ready(): Promise<void> {
    return this.#ready.promise;
  }

  /** The next record to read, per partition: save it and pass it as `from: { positions }` to resume. */
  positions(): Positions {
    const out: Positions = {};
    for (const r of this.#readers) if (r.position) out[r.partition] = { ...r.position };
    return out;
  }

  /** Ends the subscription; records received and not yet taken are dropped. */
  async close(): Promise<void> {
    this.#stop();
    this.#buffer = [];
    this.#head = 0;
    this.#wake?.();
    await this.closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<Rec<T>> {
    return {
      // A record already received is handed over without another promise of our own.
      next: () => {
        const rec = this.#poll();
        if (!rec) return this.#later();
        this.#took();
        return Promise.resolve({ done: false, value: rec });
      },
      // Leaving a for-await loop ends the subscription.
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async #later(): Promise<IteratorResult<Rec<T>>> {
    for (;;) {
      await this.#waited();
      const rec = this.#poll();
      if (rec) {
        this.#took();
        return { done: false, value: rec };
      }
      if (this.#ended) return { done: true, value: undefined };
    }
  }

  async #run(callback: RecordCallback<T>): Promise<void> {
    try {
      for (;;) {
        // Records already received go to the callback in one loop; only a promise it returns is awaited.
        for (let rec = this.#poll(); rec; rec = this.#poll()) {
          const done = callback(rec) as PromiseLike<unknown> | undefined;
          if (typeof done?.then === "function") await done;
          // Taken once handled: a callback that throws leaves its record as the position.
          this.#took();
        }
        await this.#waited();
        if (this.#ended && !this.#pending()) return;
      }
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  /** Resolves once more was received, or the subscription ended; throws the error that ended it, once nothing is left before it. */
  async #waited(): Promise<void> {
    if (this.#pending()) return;
    if (this.#error) throw this.#error;
    if (!this.#ended) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  #pending(): boolean {
    return this.#head < this.#buffer.length;
  }

  /** The next record received, taking the marks before it; null when none is here yet. */
  #poll(): Rec<T> | null {
    for (let item = this.#buffer[this.#head]; item; item = this.#buffer[this.#head]) {
      const rec = item.records?.next<T>(this.topic, item.reader.partition, this.#host.serde);
      if (rec) {
        this.#current = item;
        this.#offset = rec.offset;
        return rec;
      }
      this.#mark();
    }
    return null;
  }

  /** Takes the item at the head: a frame whose records were all taken, or a mark. */
  #mark(): void {
    const item = this.#buffer[this.#head++] as Item;
    // Taken items are dropped in bulk, not one shift() at a time, and at once when none is
    // left: each holds its frame, and frames kept past their use made most of the GC's work.
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#buffer.length) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
    item.reader.took(item);
    if (item.gap) this.emit("gap", item.gap);
    if (item.reset) this.emit("reset", item.reset);
  }

  #took(): void {
    const item = this.#current as Item;
    item.reader.moved(this.#offset + 1, item.epoch);
    // The marks right behind a record go with it: the position passes records a key filter
    // left out, and the frame's credit goes back, before the consumer asks for more.
    if (item.records?.spent && this.#buffer[this.#head] === item) {
      this.#mark();
      for (
        let next = this.#buffer[this.#head];
        next && !next.records;
        next = this.#buffer[this.#head]
      )
        this.#mark();
    }
    this.#save();
  }

  /** Ends with an error; records already received can still be taken before it is thrown. */
  #fail(error: Error): void {
    if (this.#ended) return;
    this.#error = error;
    this.#stop(error);
    this.#wake?.();
  }

  #stop(error?: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#ready.reject(error ?? closedError());
    for (const r of this.#readers) {
      r.stop();
      this.#host.release(r.link, r);
    }
    this.#save();
    this.#host.forget(this as Subscription);
    this.#end.resolve(error);
  }
}

function startOf(from: From, partition: number, saved?: Positions): [Start, Position?] {
  const f = from as { offsets?: Positions; positions?: Positions; timestamp?: number };
  const at = saved?.[partition] ?? (f.offsets ?? f.positions)?.[partition];
  const start = { from: FROM_EARLIEST as StartFrom, position: f.timestamp ?? 0 };
  if (from === "latest") start.from = FROM_LATEST;
  if (f.timestamp !== undefined) start.from = FROM_TIMESTAMP;
  return [start, typeof at === "number" ? { offset: at, epoch: 0 } : at];
}
