/**
 * What the platform-neutral core needs from a host, as small interfaces the core owns
 * (STYLE.md habit 3). The Cloudflare host implements them with SQLite storage and
 * hibernatable WebSockets; a Node host can implement them over the same core later.
 */

export interface TopicConfig {
  partitions: number;
  /** Records older than this are trimmed, a whole chunk at a time. -1 keeps them forever. */
  retentionMs: number;
  /** The partition log is trimmed, oldest chunk first, while it holds more. -1: no limit. */
  retentionBytes: number;
  maxRecordBytes: number;
}

/** The durable state of one partition log, besides its chunks and producers. */
export interface LogMeta {
  /** Changes when the log is deleted and recreated: offsets of another epoch mean nothing. */
  epoch: number;
  /** The earliest offset still stored. */
  logStart: number;
  /** The offset the next record will get. */
  highWatermark: number;
  /** Bytes of all stored chunks. */
  totalBytes: number;
  /** The largest record timestamp ever appended, so a time index stays monotonic. */
  maxTimestamp: number;
}

/** One stored row: one group commit of one or more batches (docs/ARCHITECTURE.md). */
export interface StoredChunk {
  baseOffset: number;
  recordCount: number;
  firstTimestamp: number;
  maxTimestamp: number;
  data: Uint8Array;
}

export interface ChunkInfo {
  baseOffset: number;
  endOffset: number;
  maxTimestamp: number;
  byteSize: number;
}

/** What the log remembers of each idempotent producer. */
export interface ProducerState {
  producerId: string;
  epoch: number;
  lastSequence: number;
  /** The last few batches, to answer a retried batch with its original offsets. */
  recent: Array<{ sequence: number; baseOffset: number; count: number }>;
  updatedAt: number;
}

/**
 * Synchronous log storage. Synchronous on purpose: Durable Object SQLite calls complete in
 * memory and become durable together before any later output leaves the object (the
 * output gate), so a commit followed by a send is a send of durable data.
 */
export interface LogStorage {
  loadMeta(): LogMeta | null;
  loadConfig(): TopicConfig | null;
  saveConfig(config: TopicConfig): void;
  /** Writes chunks, producer states and meta in one transaction. */
  commit(chunks: readonly StoredChunk[], producers: readonly ProducerState[], meta: LogMeta): void;
  /** Chunks whose records end after `offset`, in offset order, until `maxBytes` is reached (at least one). */
  readChunks(offset: number, maxBytes: number): StoredChunk[];
  /** The first offset of the first chunk holding a record at or after `timestamp`, if any. */
  chunkAtTimestamp(timestamp: number): StoredChunk | null;
  oldestChunk(): ChunkInfo | null;
  /** Deletes chunks ending at or before `endOffset`, and saves meta, in one transaction. */
  deleteChunksThrough(endOffset: number, meta: LogMeta): void;
  loadProducer(producerId: string): ProducerState | null;
  /** Keeps at most `max` producers, forgetting the least recently active. */
  pruneProducers(max: number): void;
  /** Deletes everything: the log is gone and the next use starts a new epoch. */
  deleteAll(): void;
}

/** State of a subscription, kept with its socket so it survives hibernation. */
export interface SubscriptionState {
  requestId: number;
  nextOffset: number;
  credit: number;
  /** The subscriber is at the tip and receives each commit as it happens. */
  live: boolean;
  key: Uint8Array | null;
}

/** A connected peer. `state` reads and writes what survives hibernation with the socket. */
export interface PeerSocket {
  send(frame: Uint8Array): void;
  /**
   * False while the host's send buffer for this socket is full (uWebSockets.js backpressure).
   * Records are then not pushed but served from the log once the host calls
   * `Partition.drained`, so a slow socket holds at most about one frame beyond the buffer.
   * Absent: always ready (a Durable Object's runtime buffers within the subscriber's credit).
   */
  ready?(): boolean;
  close(code: number, reason: string): void;
  getState(): SubscriptionState | null;
  setState(state: SubscriptionState | null): void;
}

/** Host services: the clock, randomness for epochs, and a way to run work soon. */
/**
 * Where a service's log lines go (the host's console.error); the service puts its prefix and
 * the name of what failed (topic/partition, group, key) in `line`.
 */
export type Log = (line: string, error?: unknown) => void;

export interface Host {
  now(): number;
  randomEpoch(): number;
  /** Runs `fn` after the current event, letting other queued events run first. */
  defer(fn: () => void): void;
  log(message: string, error?: unknown): void;
  /**
   * For a host whose storage commit is not durable by itself: calls `release` once the commit
   * just written is, with the error if it cannot be made durable (nothing of it is then
   * acknowledged). It must call `release` before any other event of the partition runs, so
   * that nothing reads a commit before it is durable. Absent: the commit is durable when it
   * returns (SQLite with `synchronous = FULL`; a Durable Object, whose output gate holds every
   * message sent after a write until the write is durable).
   */
  durable?(release: (error?: Error) => void): void;
}
