/**
 * The core's SqlDriver over better-sqlite3, with a database opened for "an ack means durable".
 *
 * Durability: `journal_mode = WAL` with `synchronous = FULL`. In WAL mode FULL makes every
 * COMMIT fsync the write-ahead log before it returns, so a group commit that returned is on
 * disk and survives a crash of the process and of the machine; the partition acknowledges
 * only after that. (`synchronous = NORMAL` in WAL mode syncs only at checkpoints: it survives
 * `kill -9`, but a power loss may roll back the last commits, so it would make acks lie.)
 * What FULL costs is measured by `node test/bench/sqlite-durability.mjs` (docs/BENCHMARKS.md).
 */
import Database from "better-sqlite3";
import type { SqlDriver, SqlParam, SqlRow } from "../core/sql.ts";

export type Synchronous = "FULL" | "NORMAL" | "OFF";

export interface OpenOptions {
  /** Default: "FULL", the only setting under which an ack means durable on a power loss. */
  synchronous?: Synchronous;
}

/** Prepared statements kept per database; the log uses about twenty distinct ones. */
const MAX_STATEMENTS = 64;

export interface NodeSql extends SqlDriver {
  close(): void;
}

export function openSqlite(path: string, options: OpenOptions = {}): NodeSql {
  const db = new Database(path);
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
