/**
 * The SQL the core's SQLite log storage needs, as a small driver interface the core owns
 * (STYLE.md habit 3). Durable Object SQLite (`ctx.storage.sql`, `transactionSync`) and
 * better-sqlite3 on Node both satisfy it; each host adapts its own binding.
 *
 * Synchronous on purpose, like LogStorage: a commit completes before the partition's next
 * event runs. Durability is the host's business: on Durable Objects the output gate holds
 * every later message until the write is durable; on Node the database must be opened so
 * that a COMMIT returns only once it is on disk (see edge/src/node/sqlite.ts).
 */

/** A value bound to a statement. Blobs go in as bytes. */
export type SqlParam = number | string | Uint8Array | null;

/** A column value as read back: blobs always come back as Uint8Array, whatever the binding. */
export type SqlValue = number | string | Uint8Array | null;

export type SqlRow = Record<string, SqlValue>;

export interface SqlDriver {
  /** Runs one or more statements that return nothing (schema). */
  exec(script: string): void;
  /** Runs one statement that reads and returns its rows. */
  all(query: string, ...params: SqlParam[]): SqlRow[];
  /** Runs one statement that writes; returns the rows it wrote, as the platform counts them. */
  run(query: string, ...params: SqlParam[]): number;
  /** Runs `fn` in one transaction: all its writes, or (when it throws) none of them. */
  transaction(fn: () => void): void;
}
