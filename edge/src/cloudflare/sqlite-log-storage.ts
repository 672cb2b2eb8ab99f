/**
 * LogStorage on a Durable Object's SQLite database. One row per stored chunk (one group
 * commit); the chunk's bytes are stored exactly as they are sent to subscribers.
 */
import type {
  ChunkInfo,
  LogMeta,
  LogStorage,
  ProducerState,
  StoredChunk,
  TopicConfig,
} from "../core/types.ts";

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
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_time ON chunks (max_ts_running);
CREATE TABLE IF NOT EXISTS log_meta (
  id INTEGER PRIMARY KEY CHECK (id = 0),
  epoch INTEGER NOT NULL,
  log_start INTEGER NOT NULL,
  high_watermark INTEGER NOT NULL,
  total_bytes INTEGER NOT NULL,
  max_ts INTEGER NOT NULL,
  config TEXT
);
CREATE TABLE IF NOT EXISTS producers (
  producer_id TEXT PRIMARY KEY,
  epoch INTEGER NOT NULL,
  last_sequence INTEGER NOT NULL,
  recent TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS producers_by_age ON producers (updated_at);
`;

type Row = Record<string, SqlStorageValue>;

export class SqliteLogStorage implements LogStorage {
  constructor(private readonly storage: DurableObjectStorage) {
    this.sql.exec(SCHEMA);
  }

  private get sql(): SqlStorage {
    return this.storage.sql;
  }

  loadMeta(): LogMeta | null {
    const row = this.sql.exec("SELECT * FROM log_meta WHERE id = 0").toArray()[0];
    if (!row) return null;
    return {
      epoch: Number(row.epoch),
      logStart: Number(row.log_start),
      highWatermark: Number(row.high_watermark),
      totalBytes: Number(row.total_bytes),
      maxTimestamp: Number(row.max_ts),
    };
  }

  loadConfig(): TopicConfig | null {
    const row = this.sql.exec("SELECT config FROM log_meta WHERE id = 0").toArray()[0];
    return row?.config ? (JSON.parse(String(row.config)) as TopicConfig) : null;
  }

  saveConfig(config: TopicConfig): void {
    this.sql.exec("UPDATE log_meta SET config = ? WHERE id = 0", JSON.stringify(config));
  }

  commit(chunks: readonly StoredChunk[], producers: readonly ProducerState[], meta: LogMeta): void {
    this.storage.transactionSync(() => {
      let running = this.runningMaxTimestamp();
      for (const c of chunks) {
        running = Math.max(running, c.maxTimestamp);
        this.sql.exec(
          `INSERT INTO chunks (end_offset, base_offset, record_count, first_ts, max_ts, max_ts_running, byte_size, data)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
          c.baseOffset + c.recordCount,
          c.baseOffset,
          c.recordCount,
          c.firstTimestamp,
          c.maxTimestamp,
          running,
          c.data.length,
          c.data,
        );
      }
      for (const p of producers) this.saveProducer(p);
      this.saveMeta(meta);
    });
  }

  private runningMaxTimestamp(): number {
    const row = this.sql
      .exec("SELECT max_ts_running FROM chunks ORDER BY end_offset DESC LIMIT 1")
      .toArray()[0];
    return row ? Number(row.max_ts_running) : 0;
  }

  private saveMeta(m: LogMeta): void {
    this.sql.exec(
      `INSERT INTO log_meta (id, epoch, log_start, high_watermark, total_bytes, max_ts) VALUES (0, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, log_start = excluded.log_start,
         high_watermark = excluded.high_watermark, total_bytes = excluded.total_bytes, max_ts = excluded.max_ts`,
      m.epoch,
      m.logStart,
      m.highWatermark,
      m.totalBytes,
      m.maxTimestamp,
    );
  }

  private saveProducer(p: ProducerState): void {
    this.sql.exec(
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
    // Rows are small in number per page (each up to 1 MiB), so a modest LIMIT bounds the
    // work; the byte budget then stops the page (always at least one chunk).
    const rows = this.sql
      .exec(
        `SELECT base_offset, record_count, first_ts, max_ts, byte_size, data FROM chunks
         WHERE end_offset > ? ORDER BY end_offset LIMIT 64`,
        offset,
      )
      .toArray();
    const out: StoredChunk[] = [];
    let bytes = 0;
    for (const row of rows) {
      if (out.length > 0 && bytes + Number(row.byte_size) > maxBytes) break;
      out.push(toChunk(row));
      bytes += Number(row.byte_size);
    }
    return out;
  }

  chunkAtTimestamp(timestamp: number): StoredChunk | null {
    const row = this.sql
      .exec(
        `SELECT base_offset, record_count, first_ts, max_ts, data FROM chunks
         WHERE max_ts_running >= ? ORDER BY max_ts_running, end_offset LIMIT 1`,
        timestamp,
      )
      .toArray()[0];
    return row ? toChunk(row) : null;
  }

  oldestChunk(): ChunkInfo | null {
    const row = this.sql
      .exec(
        "SELECT base_offset, end_offset, max_ts, byte_size FROM chunks ORDER BY end_offset LIMIT 1",
      )
      .toArray()[0];
    if (!row) return null;
    return {
      baseOffset: Number(row.base_offset),
      endOffset: Number(row.end_offset),
      maxTimestamp: Number(row.max_ts),
      byteSize: Number(row.byte_size),
    };
  }

  deleteChunksThrough(endOffset: number, meta: LogMeta): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM chunks WHERE end_offset <= ?", endOffset);
      this.saveMeta(meta);
    });
  }

  loadProducer(producerId: string): ProducerState | null {
    const row = this.sql
      .exec("SELECT * FROM producers WHERE producer_id = ?", producerId)
      .toArray()[0];
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
    this.sql.exec(
      `DELETE FROM producers WHERE producer_id IN
         (SELECT producer_id FROM producers ORDER BY updated_at DESC LIMIT -1 OFFSET ?)`,
      max,
    );
  }

  deleteAll(): void {
    this.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM chunks");
      this.sql.exec("DELETE FROM producers");
      this.sql.exec("DELETE FROM log_meta");
    });
  }
}

function toChunk(row: Row): StoredChunk {
  return {
    baseOffset: Number(row.base_offset),
    recordCount: Number(row.record_count),
    firstTimestamp: Number(row.first_ts),
    maxTimestamp: Number(row.max_ts),
    data: new Uint8Array(row.data as ArrayBuffer),
  };
}
