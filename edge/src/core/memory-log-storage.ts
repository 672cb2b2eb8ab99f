/**
 * LogStorage in memory, for unit and property tests of the logic above storage. It keeps the
 * same contract as the SQLite storage (the shared storage suite checks both), and its state
 * lives in a MemoryDisk that outlives the storage object, so a test can "restart" a
 * partition by opening a new storage over the same disk. Nothing here is durable.
 */
import type {
  ChunkInfo,
  LogMeta,
  LogStorage,
  ProducerState,
  StoredChunk,
  TopicConfig,
} from "./types.ts";

/** What survives a restart. */
export interface MemoryDisk {
  meta: (LogMeta & { config: TopicConfig | null }) | null;
  /** In offset order. */
  chunks: StoredChunk[];
  producers: Map<string, ProducerState>;
}

/** Rows per page, as the SQLite storage reads them. */
const PAGE_ROWS = 64;

export function memoryDisk(): MemoryDisk {
  return { meta: null, chunks: [], producers: new Map() };
}

export class MemoryLogStorage implements LogStorage {
  constructor(readonly disk: MemoryDisk = memoryDisk()) {}

  loadMeta(): LogMeta | null {
    const m = this.disk.meta;
    if (!m) return null;
    return {
      epoch: m.epoch,
      logStart: m.logStart,
      highWatermark: m.highWatermark,
      totalBytes: m.totalBytes,
      maxTimestamp: m.maxTimestamp,
    };
  }

  loadConfig(): TopicConfig | null {
    const c = this.disk.meta?.config;
    return c ? { ...c } : null;
  }

  /** Like the SQLite storage: the config is part of the meta row, so no meta, no config. */
  saveConfig(config: TopicConfig): void {
    if (this.disk.meta) this.disk.meta.config = { ...config };
  }

  commit(chunks: readonly StoredChunk[], producers: readonly ProducerState[], meta: LogMeta): void {
    const tip = this.disk.chunks[this.disk.chunks.length - 1];
    let end = tip ? tip.baseOffset + tip.recordCount : -1;
    for (const c of chunks) {
      if (c.baseOffset < end) throw new Error(`chunk at ${c.baseOffset} overlaps the log`);
      end = c.baseOffset + c.recordCount;
    }
    this.disk.chunks.push(...chunks.map((c) => ({ ...c, data: c.data.slice() })));
    for (const p of producers) this.disk.producers.set(p.producerId, structuredCopy(p));
    this.disk.meta = { ...meta, config: this.disk.meta?.config ?? null };
  }

  readChunks(offset: number, maxBytes: number): StoredChunk[] {
    const out: StoredChunk[] = [];
    let bytes = 0;
    for (const c of this.disk.chunks) {
      if (c.baseOffset + c.recordCount <= offset) continue;
      if (out.length >= PAGE_ROWS) break;
      if (out.length > 0 && bytes + c.data.length > maxBytes) break;
      bytes += c.data.length;
      out.push(c);
    }
    return out;
  }

  chunkAtTimestamp(timestamp: number): StoredChunk | null {
    let running = 0;
    for (const c of this.disk.chunks) {
      running = Math.max(running, c.maxTimestamp);
      if (running >= timestamp) return c;
    }
    return null;
  }

  oldestChunk(): ChunkInfo | null {
    const c = this.disk.chunks[0];
    if (!c) return null;
    const endOffset = c.baseOffset + c.recordCount;
    return {
      baseOffset: c.baseOffset,
      endOffset,
      maxTimestamp: c.maxTimestamp,
      byteSize: c.data.length,
    };
  }

  deleteChunksThrough(endOffset: number, meta: LogMeta): void {
    this.disk.chunks = this.disk.chunks.filter((c) => c.baseOffset + c.recordCount > endOffset);
    this.disk.meta = { ...meta, config: this.disk.meta?.config ?? null };
  }

  loadProducer(producerId: string): ProducerState | null {
    const p = this.disk.producers.get(producerId);
    return p ? structuredCopy(p) : null;
  }

  pruneProducers(max: number): void {
    const newest = [...this.disk.producers.values()].sort((a, b) => b.updatedAt - a.updatedAt);
    for (const p of newest.slice(max)) this.disk.producers.delete(p.producerId);
  }

  deleteAll(): void {
    this.disk.meta = null;
    this.disk.chunks = [];
    this.disk.producers.clear();
  }
}

function structuredCopy(p: ProducerState): ProducerState {
  return { ...p, recent: p.recent.map((r) => ({ ...r })) };
}
