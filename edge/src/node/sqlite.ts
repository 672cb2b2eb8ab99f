/**
 * The core's SqlDriver over better-sqlite3, with a database opened for "an ack means durable".
 *
 * Durability: `journal_mode = WAL` with `synchronous = FULL` by default. In WAL mode FULL makes
 * every COMMIT fsync the write-ahead log before it returns, so a commit that returned is on
 * disk and survives a crash of the process and of the machine (the registry and the groups'
 * files). `synchronous = NORMAL` in WAL mode syncs only at checkpoints: it survives `kill -9`,
 * but a power loss may roll back the last commits; the partitions' logs use it and sync the
 * write-ahead log themselves before they acknowledge (partitions.ts, commit-round.ts), which
 * makes their acks as durable as FULL's. What the settings cost is measured by
 * `npm run bench:durability` (docs/BENCHMARKS.md).
 */
import Database from "better-sqlite3";
import type { SqlDriver, SqlParam, SqlRow } from "../core/sql.ts";

export type Synchronous = "FULL" | "NORMAL" | "OFF";

export interface OpenOptions {
  /** Default: "FULL", the only setting under which an ack means durable on a power loss. */
  synchronous?: Synchronous;
}

/** Bytes per page of a new database (SQLite's default is 4096); see openSqlite. */
const PAGE_SIZE = 16_384;

/** Prepared statements kept per database; the log uses about twenty distinct ones. */
const MAX_STATEMENTS = 64;

export interface NodeSql extends SqlDriver {
  close(): void;
}

export function openSqlite(path: string, options: OpenOptions = {}): NodeSql {
  const db = new Database(path);
  // Only a new database takes a page size (an existing one keeps its own, since WAL mode
  // fixes it), so this comes before journal_mode. A group commit writes one chunk row of
  // tens to hundreds of KiB, and a catch-up read returns such rows: with 16 KiB pages they
  // span a quarter of the overflow pages (and WAL frames) that 4 KiB pages need, and
  // autocheckpoints come 4 times less often for the same 1,000 pages. cache_size is given
  // in KiB by default, so the memory a partition's cache may take stays the same.
  db.pragma(`page_size = ${PAGE_SIZE}`);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${options.synchronous ?? "FULL"}`);
  const statements = new Map<string, Database.Statement>();
  const prepare = (query: string): Database.Statement => {
    let s = statements.get(query);
    if (!s) {
      if (statements.size >= MAX_STATEMENTS) statements.clear();
      s = db.prepare(query);
      statements.set(query, s);
    }
    return s;
  };
  return {
    exec: (script) => {
      db.exec(script);
    },
    // Blobs come back as Buffer, a Uint8Array.
    all: (query, ...params: SqlParam[]) => prepare(query).all(...params) as SqlRow[],
    run: (query, ...params: SqlParam[]) => prepare(query).run(...params).changes,
    transaction: (fn) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
