/**
 * A subscription to some or all partitions of a topic: an async iterable first, a callback
 * second (an async callback delays the next record: backpressure down to the broker through
 * credit), with positions to save and resume from, and gap and reset events when a position
 * could not be kept.
 */
import { partitionForKey, StartFrom } from "@kaiten/protocol";
import { closedError, type KaitenClientError } from "./errors.ts";
import { deferred, Emitter } from "./events.ts";
import type { Link, LinkUser } from "./link.ts";
import type { Host } from "./producer.ts";
import {
  type Gap,
  type Item,
  type Position,
  type Positions,
  Reader,
  type Reset,
  type Start,
} from "./reader.ts";
import { fromWire, keyBytes, type Rec } from "./serde.ts";

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
  #buffer: Item[] = [];
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
    const { partitionCount: n } = await this.#host.topicInfo(this.topic);
    const o = this.#o;
    if (this.#ended) return;
    const key = keyBytes(o.key);
    // A partition that does not exist is refused by the broker (close code 4008): the subscription ends with it.
    const partitions = new Set(
      o.partitions ?? (key ? [partitionForKey(key, n)] : Array.from({ length: n }, (_, p) => p)),
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
        this.#wake?.();
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
    this.#wake?.();
    await this.closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<Rec<T>> {
    return {
      next: async () => {
        const item = await this.#take();
        if (item) this.#took(item);
        return item ? { done: false, value: this.#rec(item) } : { done: true, value: undefined };
      },
      // Leaving a for-await loop ends the subscription.
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async #run(callback: RecordCallback<T>): Promise<void> {
    try {
      for (let item = await this.#take(); item; item = await this.#take()) {
        await callback(this.#rec(item));
        // Taken once handled: a callback that throws leaves its record as the position.
        this.#took(item);
      }
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  #rec(item: Item): Rec<T> {
    return fromWire(
      this.topic,
      item.reader.partition,
      item.record as NonNullable<Item["record"]>,
      this.#host.serde,
    ) as Rec<T>;
  }

  /** The next record, taking the marks before it. Null once closed; throws the error that ended it. */
  async #take(): Promise<Item | null> {
    for (;;) {
      const item = this.#buffer.shift();
      if (item?.record) return item;
      if (item) this.#took(item);
      else if (this.#error) throw this.#error;
      else if (this.#ended) return null;
      else await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  #took(item: Item): void {
    item.reader.took(item);
    if (item.gap) this.emit("gap", item.gap);
    if (item.reset) this.emit("reset", item.reset);
    // The marks right behind a record go with it: the position passes records a key filter
    // left out, and the frame's credit goes back, before the consumer asks for more.
    const next = this.#buffer[0];
    if (next && !next.record) this.#took(this.#buffer.shift() as Item);
    else this.#save();
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
  const start = { from: StartFrom.Earliest as StartFrom, position: f.timestamp ?? 0 };
  if (from === "latest") start.from = StartFrom.Latest;
  if (f.timestamp !== undefined) start.from = StartFrom.Timestamp;
  return [start, typeof at === "number" ? { offset: at, epoch: 0 } : at];
}
