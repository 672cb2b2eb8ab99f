/**
 * One partition's append-only log: group commit, idempotent producers, reads by offset and
 * time, retention. Platform-neutral: storage and host come in through interfaces.
 */
import { decodeChunk, KaitenError, Limits, validateProducedBatch } from "@kaiten/protocol";
import { advance, checkSequence, type Sequencing } from "./producers.ts";
import { PartitionStats } from "./stats.ts";
import type {
  Host,
  LogMeta,
  LogStorage,
  ProducerState,
  StoredChunk,
  TopicConfig,
} from "./types.ts";

export interface AppendRequest {
  /** One batch as encoded by a producer (base offset 0). */
  batch: Uint8Array;
  /** Empty when the producer is not idempotent. */
  producerId: string;
  producerEpoch: number;
  sequence: number;
  sequencing: Sequencing;
}

export interface AppendResult {
  baseOffset: number;
  count: number;
  epoch: number;
  duplicate: boolean;
}

interface Pending {
  /** When the batch arrived, for the commit latency of the metrics stream. */
  arrivedAt: number;
  batch: Uint8Array;
  count: number;
  firstTimestamp: number;
  maxTimestamp: number;
  producer: { id: string; epoch: number; sequence: number } | null;
  resolve(result: AppendResult): void;
  reject(error: unknown): void;
  promise: Promise<AppendResult>;
}

/** Bytes of produced batches waiting for the next group commit before producers are throttled. */
export const MAX_PENDING_BYTES = 8 * Limits.maxChunkBytes;
/** Producers remembered per partition; the least recently active are forgotten first. */
export const MAX_PRODUCERS = 10_000;

export type CommitListener = (chunks: readonly StoredChunk[], meta: LogMeta) => void;

export class PartitionLog {
  private meta: LogMeta;
  private config: TopicConfig;
  private pending: Pending[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** Producer states including batches accepted but not yet committed. */
  private readonly producers = new Map<string, ProducerState>();
  /** Batches accepted but not committed, by producer and sequence, so a quick retry waits for them. */
  private readonly inFlight = new Map<string, Pending>();
  /** Commits written and not yet released by Host.durable. */
  private unreleased = 0;

  constructor(
    private readonly storage: LogStorage,
    private readonly host: Host,
    defaults: TopicConfig,
    private readonly onCommit: CommitListener,
    private readonly stats = new PartitionStats(() => host.now()),
  ) {
    this.config = storage.loadConfig() ?? defaults;
    this.meta = storage.loadMeta() ?? this.freshMeta();
  }

  private freshMeta(): LogMeta {
    const meta = {
      epoch: this.host.randomEpoch(),
      logStart: 0,
      highWatermark: 0,
      totalBytes: 0,
      maxTimestamp: 0,
    };
    this.storage.commit([], [], meta);
    return meta;
  }

  get state(): Readonly<LogMeta> {
    return this.meta;
  }

  get topicConfig(): Readonly<TopicConfig> {
    return this.config;
  }

  /**
   * Nothing waits in this log: no batch accepted and not yet acknowledged or refused, no commit
   * waiting for its sync. A host may then close it and open it again from storage later (a
   * Durable Object evicted, a Node host's partition closed to stay within its open files).
   */
  get idle(): boolean {
    return (
      this.pending.length === 0 &&
      !this.flushScheduled &&
      this.inFlight.size === 0 &&
      this.unreleased === 0
    );
  }

  /** Stores the topic's config when it changed (the registry owns it; the log keeps a copy for its alarm). */
  configure(config: TopicConfig): void {
    const c = this.config;
    if (
      c.partitions === config.partitions &&
      c.retentionMs === config.retentionMs &&
      c.retentionBytes === config.retentionBytes &&
      c.maxRecordBytes === config.maxRecordBytes
    ) {
      return;
    }
    this.config = { ...config };
    this.storage.saveConfig(this.config);
  }

  /**
   * Validates and queues a batch for the next group commit. The promise resolves only after
   * the commit holding it was written; anything the caller sends after that waits behind the
   * write in the output gate. Throws (synchronously) a KaitenError for a bad batch or sequence.
   */
  append(req: AppendRequest): Promise<AppendResult> {
    // A batch must fit in one stored chunk (§7); a larger one could exceed SQLite's 2 MB row.
    // WebSocket frames are smaller already; HTTP JSON can grow when its values are re-encoded.
    if (req.batch.length > Limits.maxChunkBytes) {
      throw new KaitenError("FRAME_TOO_LARGE", `a batch of ${req.batch.length} bytes is too large`);
    }
    const info = validateProducedBatch(req.batch, this.config.maxRecordBytes);
    if (this.pendingBytes + req.batch.length > MAX_PENDING_BYTES) {
      throw new KaitenError("THROTTLED", "too many batches waiting for a commit; retry shortly");
    }
    let producer: Pending["producer"] = null;
    if (req.producerId) {
      const dup = this.checkProducer(req);
      if (dup) return dup;
      producer = { id: req.producerId, epoch: req.producerEpoch, sequence: req.sequence };
    }
    return this.enqueue(req.batch, info, producer);
  }

  private checkProducer(req: AppendRequest): Promise<AppendResult> | null {
    const state = this.producerState(req.producerId);
    const check = checkSequence(state, req.producerEpoch, req.sequence, req.sequencing);
    if (check.kind === "new") return null;
    const waiting = this.inFlight.get(flightKey(req.producerId, req.producerEpoch, req.sequence));
    if (waiting) return waiting.promise.then((r) => ({ ...r, duplicate: true }));
    const { baseOffset, count } = check;
    return Promise.resolve({ baseOffset, count, epoch: this.meta.epoch, duplicate: true });
  }

  /** A producer's epoch and last sequence, including batches accepted but not yet committed. */
  producer(id: string): { epoch: number; lastSequence: number } | null {
    const state = this.producerState(id);
    return state ? { epoch: state.epoch, lastSequence: state.lastSequence } : null;
  }

  private producerState(id: string): ProducerState | null {
    let state = this.producers.get(id) ?? null;
    if (!state) {
      state = this.storage.loadProducer(id);
      if (state) this.producers.set(id, state);
    }
    return state;
  }

  private enqueue(
    batch: Uint8Array,
    info: { count: number; firstTimestamp: number; maxTimestamp: number },
    producer: Pending["producer"],
  ): Promise<AppendResult> {
    let resolve!: (r: AppendResult) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<AppendResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const arrivedAt = this.host.now();
    const p: Pending = { arrivedAt, batch, ...info, producer, resolve, reject, promise };
    this.pending.push(p);
    this.pendingBytes += batch.length;
    if (producer) this.reserveSequence(p, producer);
    this.scheduleFlush();
    return promise;
  }

  /** Marks the sequence as taken at once, so a second copy arriving before the commit is a duplicate. */
  private reserveSequence(p: Pending, producer: NonNullable<Pending["producer"]>): void {
    const prev = this.producerState(producer.id);
    const placeholder = { sequence: producer.sequence, baseOffset: -1, count: p.count };
    this.producers.set(
      producer.id,
      advance(prev, producer.id, producer.epoch, placeholder, this.host.now()),
    );
    this.inFlight.set(flightKey(producer.id, producer.epoch, producer.sequence), p);
  }

  private scheduleFlush(): void {
    if (this.pendingBytes >= Limits.maxChunkBytes) {
      this.flush();
      return;
    }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Group commit: batches from any producer that arrive before this deferred call runs
    // are written together, in one transaction and (within the chunk limit) one row.
    this.host.defer(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /**
   * Writes every pending batch in one transaction, then, once the host has made it durable
   * (Host.durable; at once when the write is durable by itself), acknowledges and fans out.
   * If the host cannot make it durable nothing is acknowledged, and the host stops using this
   * log: its state already counts the write.
   */
  flush(): void {
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    this.pendingBytes = 0;
    const meta = { ...this.meta };
    const offsets: number[] = [];
    const chunks = packChunks(batch, meta, offsets);
    const producers = this.committedProducers(batch, offsets);
    try {
      this.storage.commit(chunks, producers, meta);
    } catch (error) {
      this.failPending(batch, error);
      return;
    }
    this.meta = meta;
    for (const s of producers) this.producers.set(s.producerId, s);
    this.unreleased++;
    const released = (error?: Error) => {
      this.unreleased--;
      if (error) this.failPending(batch, error);
      else this.committed(batch, offsets, chunks, meta);
    };
    if (this.host.durable) this.host.durable(released);
    else released();
  }

  /** The commit is durable: acknowledge its batches, then fan out. */
  private committed(
    batch: Pending[],
    offsets: number[],
    chunks: StoredChunk[],
    meta: LogMeta,
  ): void {
    batch.forEach((p, i) => {
      if (p.producer)
        this.inFlight.delete(flightKey(p.producer.id, p.producer.epoch, p.producer.sequence));
      p.resolve({
        baseOffset: offsets[i] as number,
        count: p.count,
        epoch: meta.epoch,
        duplicate: false,
      });
    });
    const now = this.host.now();
    this.stats.committed(
      batch.reduce((n, p) => n + p.count, 0),
      chunks.reduce((n, c) => n + c.data.length, 0),
      batch.map((p) => now - p.arrivedAt),
    );
    this.afterCommit(chunks, meta);
  }

  private afterCommit(chunks: StoredChunk[], meta: LogMeta): void {
    try {
      this.onCommit(chunks, meta);
    } catch (error) {
      this.host.log("fan-out after commit failed", error);
    }
    if (this.producers.size > MAX_PRODUCERS) {
      this.storage.pruneProducers(MAX_PRODUCERS);
      this.producers.clear();
    }
    if (this.config.retentionBytes >= 0 && meta.totalBytes > this.config.retentionBytes) {
      this.enforceRetention(this.host.now());
    }
  }

  /** The producer states to write with this commit: each producer's last batch, with real offsets. */
  private committedProducers(batch: Pending[], offsets: number[]): ProducerState[] {
    const byId = new Map<string, ProducerState>();
    batch.forEach((p, i) => {
      if (!p.producer) return;
      const { id, epoch, sequence } = p.producer;
      const prev = byId.get(id) ?? this.storage.loadProducer(id);
      const entry = { sequence, baseOffset: offsets[i] as number, count: p.count };
      byId.set(id, advance(prev, id, epoch, entry, this.host.now()));
    });
    return [...byId.values()];
  }

  private failPending(batch: Pending[], error: unknown): void {
    this.host.log("commit failed", error);
    // The in-memory producer states held reservations for batches that were not written.
    this.producers.clear();
    this.inFlight.clear();
    const failure = new KaitenError("INTERNAL", "the write failed; retry");
    for (const p of batch) p.reject(failure);
  }

  /** Reads stored chunks from `offset` (which must be within the log), up to about `maxBytes`. */
  read(offset: number, maxBytes: number): StoredChunk[] {
    this.checkReadable(offset);
    if (offset === this.meta.highWatermark) return [];
    return this.storage.readChunks(offset, maxBytes);
  }

  /** Throws OFFSET_OUT_OF_RANGE (detail: the earliest offset) outside [logStart, highWatermark]. */
  checkReadable(offset: number): void {
    const { logStart, highWatermark } = this.meta;
    if (offset < logStart || offset > highWatermark) {
      const where =
        offset < logStart ? "before the earliest retained offset" : "beyond the high watermark";
      throw new KaitenError(
        "OFFSET_OUT_OF_RANGE",
        `offset ${offset} is ${where} (${logStart}..${highWatermark})`,
        logStart,
      );
    }
  }

  /** The offset of the first record with a timestamp at or after `timestamp`, or the high watermark. */
  offsetForTimestamp(timestamp: number): number {
    const chunk = this.storage.chunkAtTimestamp(timestamp);
    if (!chunk) return this.meta.highWatermark;
    return Math.max(firstOffsetAtOrAfter(chunk, timestamp), this.meta.logStart);
  }

  /** Trims whole chunks older than the time limit or beyond the byte limit. Returns chunks removed. */
  enforceRetention(now: number): number {
    let removed = 0;
    const { retentionMs, retentionBytes } = this.config;
    for (;;) {
      const oldest = this.storage.oldestChunk();
      if (!oldest) break;
      const tooOld = retentionMs >= 0 && oldest.maxTimestamp < now - retentionMs;
      // Like Kafka's active segment, the newest chunk is never removed for size alone: a
      // byte limit below one chunk would otherwise empty the log at every commit.
      const newest = oldest.endOffset === this.meta.highWatermark;
      const tooBig = !newest && retentionBytes >= 0 && this.meta.totalBytes > retentionBytes;
      if (!tooOld && !tooBig) break;
      const meta = {
        ...this.meta,
        logStart: oldest.endOffset,
        totalBytes: this.meta.totalBytes - oldest.byteSize,
      };
      this.storage.deleteChunksThrough(oldest.endOffset, meta);
      this.meta = meta;
      removed++;
    }
    return removed;
  }

  /** When the oldest chunk passes the time limit, or null when time retention does not apply. */
  retentionDue(): number | null {
    if (this.config.retentionMs < 0) return null;
    const oldest = this.storage.oldestChunk();
    return oldest ? oldest.maxTimestamp + this.config.retentionMs + 1 : null;
  }

  /** Deletes the whole log; the next use starts a new epoch. */
  destroy(): void {
    this.storage.deleteAll();
    this.producers.clear();
    this.inFlight.clear();
    const failure = new KaitenError("TOPIC_DELETED", "the topic was deleted");
    for (const p of this.pending) p.reject(failure);
    this.pending = [];
    this.pendingBytes = 0;
    this.meta = this.freshMeta();
    // deleteAll also dropped the stored config. Keep it stored: `configure` skips a write when
    // a recreated topic has the same config, and a restarted object (an alarm) would else
    // fall back to the defaults.
    this.storage.saveConfig(this.config);
  }
}

function flightKey(id: string, epoch: number, sequence: number): string {
  return `${id}\u0000${epoch}\u0000${sequence}`;
}

/**
 * Gives each pending batch its offsets (advancing `meta`) and packs the batches into as few
 * chunks as the chunk size limit allows: usually one row for the whole group commit.
 */
function packChunks(batch: readonly Pending[], meta: LogMeta, offsets: number[]): StoredChunk[] {
  const chunks: StoredChunk[] = [];
  let parts: Uint8Array[] = [];
  let bases: number[] = [];
  let size = 0;
  let current: StoredChunk | null = null;
  const close = () => {
    if (!current) return;
    current.data = joinBatches(parts, bases);
    chunks.push(current);
    current = null;
    parts = [];
    bases = [];
    size = 0;
  };
  for (const p of batch) {
    if (current && size + p.batch.length > Limits.maxChunkBytes) close();
    const base = meta.highWatermark;
    offsets.push(base);
    parts.push(p.batch);
    bases.push(base);
    size += p.batch.length;
    current ??= {
      baseOffset: base,
      recordCount: 0,
      firstTimestamp: p.firstTimestamp,
      maxTimestamp: 0,
      data: new Uint8Array(0),
    };
    current.recordCount += p.count;
    current.maxTimestamp = Math.max(current.maxTimestamp, p.maxTimestamp);
    meta.highWatermark += p.count;
    meta.totalBytes += p.batch.length;
    meta.maxTimestamp = Math.max(meta.maxTimestamp, p.maxTimestamp);
  }
  close();
  return chunks;
}

/** The batches end to end in one new buffer, each with its base offset set: a single copy. */
function joinBatches(batches: readonly Uint8Array[], bases: readonly number[]): Uint8Array {
  const out = new Uint8Array(batches.reduce((n, b) => n + b.length, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  batches.forEach((b, i) => {
    out.set(b, at);
    const base = bases[i] as number;
    view.setUint32(at, Math.floor(base / 0x1_0000_0000));
    view.setUint32(at + 4, base % 0x1_0000_0000);
    at += b.length;
  });
  return out;
}

/** First offset in a chunk whose record timestamp is >= `timestamp` (records may be out of time order). */
function firstOffsetAtOrAfter(chunk: StoredChunk, timestamp: number): number {
  for (const r of decodeChunk(chunk.data)) if (r.timestamp >= timestamp) return r.offset;
  return chunk.baseOffset + chunk.recordCount;
}
