/**
 * LogStorage on a SQLite database reached through a SqlDriver (sql.ts): a Durable Object's
 * SQLite on Cloudflare, better-sqlite3 on Node. One row per stored chunk (one group
 * commit); the chunk's bytes are stored exactly as they are sent to subscribers.
 *
 * Rows written are billed ($1 per million, index entries included), so a commit writes one
 * row: its chunk. The states of the idempotent producers in the commit ride in that row
 * (`producers`) and are checkpointed into the `producers` table every CHECKPOINT_COMMITS
 * commits (and before retention deletes a chunk that carries one); after a restart, the
 * chunks since the checkpoint are read back for them. The meta
 * row's high watermark, byte total and newest timestamp follow from the chunks and are
 * written only with the rows that change its epoch or earliest offset; the tables carry no
 * secondary index (a search by time scans chunks in offset order, which is rare).
 */

import type { SqlDriver, SqlParam, SqlRow } from "./sql.ts";
import type {
  ChunkInfo,
  LogMeta,
  LogStorage,
  ProducerState,
  StoredChunk,
  TopicConfig,
} from "./types.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS chunks (
  end_offset INTEGER PRIMARY KEY,
  base_offset INTEGER NOT NULL,
  record_count INTEGER NOT NULL,
  first_ts INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  -- The largest timestamp up to and including this chunk: monotonic, so it can be searched.
  max_ts_running INTEGER NOT NULL,
  byte_size INTEGER NOT NULL,
  -- JSON states of the idempotent producers of this commit, until a checkpoint holds them.
  producers TEXT,
  data BLOB NOT NULL
);
DROP INDEX IF EXISTS chunks_by_time;
CREATE TABLE IF NOT EXISTS log_meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  epoch INTEGER NOT NULL,
  log_start INTEGER NOT NULL,
  high_watermark INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  config TEXT,
  -- Producer states of chunks ending at or before this offset are in the producers table.
  checkpoint INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS producers (
  producer_id TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  last_sequence INTEGER NOT NULL,
  recent TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
DROP INDEX IF EXISTS producers_by_age;
`;

/** Commits between checkpoints of producer states into the `producers` table. */
export const CHECKPOINT_COMMITS = 32;
/** Columns added after the first release of the schema, for logs created before them. */
const MIGRATIONS = [
  "ALTER TABLE chunks ADD COLUMN producers TEXT",
  "ALTER TABLE log_meta ADD COLUMN checkpoint INTEGER NOT NULL DEFAULT 0",
];

export class SqliteLogStorage implements LogStorage {
  /**
   * Group commits and SQLite rows written (index entries included) since this object
   * started, as the runtime counts them for billing; GET /v1/topics/{t} shows them (§11.1).
   */
  readonly usage = { commits: 0, rowsWritten: 0 };
  /** The epoch and earliest offset of the meta row as stored, to know when it must be written. */
  private stored: { epoch: number; logStart: number } | null = null;
  /**
   * Producer rows as last committed, so that a commit does not read back what it wrote the
   * time before. Bounded: the log prunes producers past its limit, which clears this too.
   */
  private readonly producerRows = new Map<string, ProducerState>();
  /** max_ts_running of the newest chunk, once read; null: read it again. */
  private runningMax: number | null = null;

  /** Producer states committed in chunk rows but not yet checkpointed into their table. */
  private readonly dirty = new Map<string, ProducerState>();
  /** The meta row's checkpoint offset. */
  private checkpoint = 0;
  private sinceCheckpoint = 0;

  constructor(private readonly sql: SqlDriver) {
    sql.exec(SCHEMA);
    for (const m of MIGRATIONS) {
      try {
        sql.exec(m);
      } catch {
        // The column exists already.
      }
    }
    // Before anything asks: a producer's newest state may be only in a chunk row.
    this.recoverProducers();
  }

  /** Runs a statement that writes, counting its rows. */
  private write(query: string, ...params: SqlParam[]): void {
    this.usage.rowsWritten += this.sql.run(query, ...params);
  }

  private first(query: string, ...params: SqlParam[]): SqlRow | undefined {
    return this.sql.all(query, ...params)[0];
  }

  loadMeta(): LogMeta | null {
    const row = this.first("SELECT * FROM log_meta WHERE id = 0");
    if (!row) return null;
    // Commits do not rewrite the meta row: the chunks hold the newer figures.
    const tail = this.first(
      `SELECT MAX(end_offset) AS end_offset, MAX(max_ts_running) AS max_ts,
         COALESCE(SUM(byte_size), 0) AS bytes, COUNT(*) AS chunks FROM chunks`,
    ) as SqlRow;
    const meta = {
      epoch: Number(row.epoch),
      logStart: Number(row.log_start),
      highWatermark: Math.max(Number(row.high_watermark), Number(tail.end_offset ?? 0)),
      totalBytes: Number(tail.chunks) > 0 ? Number(tail.bytes) : Number(row.total_bytes),
      maxTimestamp: Math.max(Number(row.max_ts), Number(tail.max_ts ?? 0)),
    };
    this.stored = { epoch: meta.epoch, logStart: meta.logStart };
    return meta;
  }

  /** Producer states committed since the checkpoint: the newest copy of each wins. */
  private recoverProducers(): void {
    const row = this.first("SELECT checkpoint FROM log_meta WHERE id = 0");
    this.checkpoint = Number(row?.checkpoint ?? 0);
    const rows = this.sql.all(
      "SELECT producers FROM chunks WHERE end_offset > ? AND producers IS NOT NULL ORDER BY end_offset",
      this.checkpoint,
    );
    for (const row of rows) {
      for (const p of JSON.parse(String(row.producers)) as ProducerState[]) {
        this.dirty.set(p.producerId, p);
      }
    }
  }

  loadConfig(): TopicConfig | null {
    const row = this.first("SELECT config FROM log_meta WHERE id = 0");
    return row?.config ? (JSON.parse(String(row.config)) as TopicConfig) : null;
  }

  saveConfig(config: TopicConfig): void {
    this.write("UPDATE log_meta SET config = ? WHERE id = 0", JSON.stringify(config));
  }

  commit(chunks: readonly StoredChunk[], producers: readonly ProducerState[], meta: LogMeta): void {
    let running = this.runningMaxTimestamp();
    this.transaction(() => {
      const last = chunks[chunks.length - 1];
      for (const c of chunks) {
        running = Math.max(running, c.maxTimestamp);
        // The commit's producer states go with its last chunk: durable in the same row.
        const states = c === last && producers.length > 0 ? JSON.stringify(producers) : null;
        this.write(
          `INSERT INTO chunks (end_offset, base_offset, record_count, first_ts, max_ts, max_ts_running, byte_size, producers, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          c.baseOffset + c.recordCount,
          c.baseOffset,
          c.recordCount,
          c.firstTimestamp,
          c.maxTimestamp,
          running,
          c.data.length,
          states,
          c.data,
        );
      }
      for (const p of producers) this.dirty.set(p.producerId, p);
      if (chunks.length > 0 && ++this.sinceCheckpoint >= CHECKPOINT_COMMITS) {
        this.checkpointProducers(meta);
        return;
      }
      const s = this.stored;
      if (chunks.length === 0 || s?.epoch !== meta.epoch || s.logStart !== meta.logStart) {
        this.saveMeta(meta);
      }
    });
    for (const p of producers) this.producerRows.set(p.producerId, p);
    this.runningMax = running;
    this.usage.commits++;
  }

  private runningMaxTimestamp(): number {
    if (this.runningMax !== null) return this.runningMax;
    const row = this.first("SELECT max_ts_running FROM chunks ORDER BY end_offset DESC LIMIT 1");
    return row ? Number(row.max_ts_running) : 0;
  }

  /**
   * Writes every producer state held only in chunk rows into the producers table, and moves
   * the checkpoint to the high watermark (in the caller's transaction).
   */
  private checkpointProducers(meta: LogMeta): void {
    for (const p of this.dirty.values()) this.saveProducer(p);
    this.checkpoint = meta.highWatermark;
    this.saveMeta(meta);
    this.dirty.clear();
    this.sinceCheckpoint = 0;
  }

  private saveMeta(m: LogMeta): void {
    this.stored = { epoch: m.epoch, logStart: m.logStart };
    this.write(
      `INSERT INTO log_meta (id, epoch, log_start, high_watermark, total_bytes, max_ts, checkpoint) VALUES (0, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, log_start = excluded.log_start,
         high_watermark = excluded.high_watermark, total_bytes = excluded.total_bytes, max_ts = excluded.max_ts,
         checkpoint = excluded.checkpoint`,
      m.epoch,
      m.logStart,
      m.highWatermark,
      m.totalBytes,
      m.maxTimestamp,
      this.checkpoint,
    );
  }

  private saveProducer(p: ProducerState): void {
    this.write(
      `INSERT INTO producers (producer_id, epoch, last_sequence, recent, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (producer_id) DO UPDATE SET epoch = excluded.epoch, last_sequence = excluded.last_sequence,
         recent = excluded.recent, updated_at = excluded.updated_at`,
      p.producerId,
      p.epoch,
      p.lastSequence,
      JSON.stringify(p.recent),
      p.updatedAt,
    );
  }

  readChunks(offset: number, maxBytes: number): StoredChunk[] {
    // First the sizes, without the blobs: a page is usually a few rows of up to 1 MiB each,
    // and fetching 64 rows' data to keep 3 made catch-up read ~20 times what it sent.
    const sizes = this.sql.all(
      "SELECT end_offset, byte_size FROM chunks WHERE end_offset > ? ORDER BY end_offset LIMIT 64",
      offset,
    );
    let bytes = 0;
    let last = -1;
    for (const row of sizes) {
      // The byte budget stops the page, which always holds at least one chunk.
      if (last >= 0 && bytes + Number(row.byte_size) > maxBytes) break;
      bytes += Number(row.byte_size);
      last = Number(row.end_offset);
    }
    if (last < 0) return [];
    return this.sql
      .all(
        `SELECT base_offset, record_count, first_ts, max_ts, data FROM chunks
         WHERE end_offset > ? AND end_offset <= ? ORDER BY end_offset`,
        offset,
        last,
      )
      .map(toChunk);
  }

  chunkAtTimestamp(timestamp: number): StoredChunk | null {
    const row = this.first(
      // max_ts_running grows with end_offset: the first match in offset order is the answer.
      `SELECT base_offset, record_count, first_ts, max_ts, data FROM chunks
         WHERE max_ts_running >= ? ORDER BY end_offset LIMIT 1`,
      timestamp,
    );
    return row ? toChunk(row) : null;
  }

  oldestChunk(): ChunkInfo | null {
    const row = this.first(
      "SELECT base_offset, end_offset, max_ts, byte_size FROM chunks ORDER BY end_offset LIMIT 1",
    );
    if (!row) return null;
    return {
      baseOffset: Number(row.base_offset),
      endOffset: Number(row.end_offset),
      maxTimestamp: Number(row.max_ts),
      byteSize: Number(row.byte_size),
    };
  }

  deleteChunksThrough(endOffset: number, meta: LogMeta): void {
    this.runningMax = null;
    this.transaction(() => {
      this.write("DELETE FROM chunks WHERE end_offset <= ?", endOffset);
      // Chunks past the checkpoint may carry the only copy of a producer's state.
      if (endOffset > this.checkpoint && this.dirty.size > 0) this.checkpointProducers(meta);
      else this.saveMeta(meta);
    });
  }

  loadProducer(producerId: string): ProducerState | null {
    const committed = this.producerRows.get(producerId) ?? this.dirty.get(producerId);
    if (committed) return committed;
    const row = this.first("SELECT * FROM producers WHERE producer_id = ?", producerId);
    if (!row) return null;
    return {
      producerId,
      epoch: Number(row.epoch),
      lastSequence: Number(row.last_sequence),
      recent: JSON.parse(String(row.recent)),
      updatedAt: Number(row.updated_at),
    };
  }

  pruneProducers(max: number): void {
    this.producerRows.clear();
    this.write(
      `DELETE FROM producers WHERE producer_id IN
         (SELECT producer_id FROM producers ORDER BY updated_at DESC LIMIT -1 OFFSET ?)`,
      max,
    );
  }

  deleteAll(): void {
    this.producerRows.clear();
    this.dirty.clear();
    this.checkpoint = 0;
    this.sinceCheckpoint = 0;
    this.runningMax = null;
    this.transaction(() => {
      this.write("DELETE FROM chunks");
      this.write("DELETE FROM producers");
      this.write("DELETE FROM log_meta");
      this.stored = null;
    });
  }

  /** A transaction; if it fails, the meta row is written again with the next commit. */
  private transaction(fn: () => void): void {
    try {
      this.sql.transaction(fn);
    } catch (error) {
      this.stored = null;
      this.runningMax = null;
      // Producer states and the checkpoint may have moved for a write that did not happen:
      // take them again from what is stored.
      this.producerRows.clear();
      this.dirty.clear();
      this.recoverProducers();
      throw error;
    }
  }
}

function toChunk(row: SqlRow): StoredChunk {
  return {
    baseOffset: Number(row.base_offset),
    recordCount: Number(row.record_count),
    firstTimestamp: Number(row.first_ts),
    maxTimestamp: Number(row.max_ts),
    data: row.data as Uint8Array,
  };
}
