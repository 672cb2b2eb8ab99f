/**
 * The core's SqlDriver over a Durable Object's SQLite. Calls complete in memory; the output
 * gate holds every message the object sends afterwards until the write is durable, which is
 * what makes an ack sent after a commit an ack of durable data (docs/ARCHITECTURE.md).
 */
import type { SqlDriver, SqlParam, SqlRow, SqlValue } from "../core/sql.ts";

export function durableObjectSql(storage: DurableObjectStorage): SqlDriver {
  const sql = storage.sql;
  return {
    exec: (script) => {
      sql.exec(script);
    },
    all: (query, ...params) =>
      sql
        .exec(query, ...(params as SqlParam[]))
        .toArray()
        .map(toRow),
    // rowsWritten counts index entries too: it is what the platform bills.
    run: (query, ...params) => sql.exec(query, ...params).rowsWritten,
    transaction: (fn) => storage.transactionSync(fn),
  };
}

/** Blobs come back as ArrayBuffer here; the core reads Uint8Array. */
function toRow(row: Record<string, SqlStorageValue>): SqlRow {
  for (const k in row) {
    const v = row[k];
    if (v instanceof ArrayBuffer)
      (row as Record<string, SqlValue | ArrayBuffer>)[k] = new Uint8Array(v);
  }
  return row as SqlRow;
}
