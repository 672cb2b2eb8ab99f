/**
 * Producing: records are serialized when `produce` is called, admitted in call order into a
 * bounded queue (`maxQueued`: a full queue makes `produce` wait instead of growing memory),
 * and routed to partitions: by key with Kafka's murmur2, keyless ones to one partition per
 * batch, rotating (Kafka's sticky partitioner).
 */
import { type Ack, Batcher, type BatcherOptions, type Call, settle } from "./batcher.ts";
import { KaitenClientError } from "./errors.ts";
import { sleep } from "./events.ts";
import type { Link, LinkUser } from "./link.ts";
import { type ProduceRecord, type Serde, toWire } from "./serde.ts";

export interface ProducerOptions
  extends Pick<BatcherOptions, "lingerMs" | "batchBytes" | "producerId"> {
  /** Records queued and not yet acknowledged before `produce` waits. Default: 10_000 */
  maxQueued: number;
}

export interface TopicInfo {
  partitionCount: number;
  maxRecordBytes: number;
}

/** What the client gives its producer and subscriptions. */
export interface Host {
  serde: Serde;
  topicInfo(name: string): Promise<TopicInfo>;
  link(topic: string, partition: number, user: LinkUser): Link;
  release(link: Link | undefined, user: LinkUser): void;
  nextRequestId(): number;
  backoff(attempt: number): number;
}

let keys: typeof import("./keys.ts") | undefined;
/**
 * The key partitioner (keys.ts), loaded with the first key: it costs the main entry nothing,
 * and the first keyed call, which looks its topic up anyway, waits for both at once. While it
 * cannot load (offline) it is tried again every 2 s, as the topic lookup is retried: a keyed
 * call waits for the network instead of failing.
 */
export async function partitioner() {
  while (!keys) {
    try {
      keys = await import("./keys.ts");
    } catch {
      await sleep(2_000);
    }
  }
  return keys;
}

export class Producer {
  readonly #host: Host;
  readonly #o: ProducerOptions;
  #queued = 0;
  #waiters: Array<() => void> = [];
  /** Admission runs one call at a time, so records enter partitions in call order. */
  #chain: Promise<unknown> = Promise.resolve();
  readonly #batchers = new Map<string, Batcher>();
  readonly #sticky = new Map<string, number>();
  #error: Error | undefined;

  constructor(host: Host, o: ProducerOptions) {
    this.#host = host;
    this.#o = o;
  }

  produce(topic: string, records: ProduceRecord[]): Promise<Ack[]> {
    return new Promise((resolve, reject) => {
      if (this.#error) throw this.#error;
      // Serialized now: a value the caller changes after this call is not what is sent.
      const wires = records.map((r) => toWire(r, this.#host.serde));
      const call: Call = { acks: [], left: wires.length, resolve, reject };
      if (!wires.length) resolve([]);
      this.#chain = this.#chain
        .then(() => this.#admit(topic, records, wires, call))
        .catch((e) => settle(call, e));
    });
  }

  async #admit(
    topic: string,
    records: ProduceRecord[],
    wires: ReturnType<typeof toWire>[],
    call: Call,
  ) {
    const [{ partitionCount: n, maxRecordBytes }, k] = await Promise.all([
      this.#host.topicInfo(topic),
      wires.some(([w]) => w.key) && partitioner(),
    ]);
    // Checked here, not by the broker: a refused record would fail every record sharing its batch.
    // (A partition that does not exist is refused by the broker: its socket closes with 4008.)
    const partitions = wires.map(([w, size], i) => {
      if (size > maxRecordBytes)
        throw new KaitenClientError("RECORD_TOO_LARGE", `${size} > ${maxRecordBytes} bytes`);
      return records[i]?.partition ?? (w.key && k ? k.partitionForKey(w.key, n) : undefined);
    });
    while (this.#queued && this.#queued + wires.length > this.#o.maxQueued) {
      await new Promise<void>((wake) => this.#waiters.push(wake));
    }
    if (this.#error) throw this.#error;
    this.#queued += wires.length;
    let last: Batcher | undefined;
    const touched = new Set<Batcher>();
    wires.forEach(([w, size], index) => {
      // Keyless records stick to one partition until its batch closes (sealed() moves it on).
      let p = partitions[index] ?? this.#sticky.get(topic);
      if (p === undefined) {
        p = Math.floor(Math.random() * n);
        this.#sticky.set(topic, p);
      }
      // Most records of a call go where the one before went: no lookup for them.
      if (last?.partition !== p) {
        last = this.#batcher(topic, p, n);
        touched.add(last);
      }
      last.add(w, size, call, index);
    });
    for (const b of touched) b.added();
  }

  #batcher(topic: string, partition: number, partitions: number): Batcher {
    const id = `${partition}/${topic}`;
    const existing = this.#batchers.get(id);
    if (existing) return existing;
    const b: Batcher = new Batcher(partition, {
      ...this.#o,
      nextRequestId: () => this.#host.nextRequestId(),
      backoff: (attempt) => this.#host.backoff(attempt),
      sealed: () => {
        if (this.#sticky.get(topic) === partition)
          this.#sticky.set(topic, (partition + 1) % partitions);
      },
      settled: (count) => {
        this.#queued -= count;
        for (const wake of this.#waiters.splice(0)) wake();
      },
      dead: (error) => {
        this.#batchers.delete(id);
        this.#drop(b, error);
      },
    });
    this.#batchers.set(id, b);
    this.#host.link(topic, partition, b);
    return b;
  }

  #drop(b: Batcher, error: Error): void {
    b.failAll(error);
    this.#host.release(b.link, b);
  }

  /** Sends every open batch now; resolves once all records produced before are acknowledged or failed. */
  async flush(): Promise<void> {
    await this.#chain;
    await Promise.all([...this.#batchers.values()].map((b) => b.idle()));
  }

  /** Fails everything still queued with `error`; later calls fail at once. */
  close(error: Error): void {
    this.#error = error;
    for (const wake of this.#waiters.splice(0)) wake();
    for (const b of this.#batchers.values()) this.#drop(b, error);
    this.#batchers.clear();
  }
}
