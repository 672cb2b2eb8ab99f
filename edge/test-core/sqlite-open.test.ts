/** How openSqlite opens a partition's database: the durability settings, and the page size of new files. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, test } from "vitest";
import { openSqlite } from "../src/node/sqlite.ts";

const dir = mkdtempSync(join(tmpdir(), "kaiten-sqlite-open-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pragma = (db: ReturnType<typeof openSqlite>, name: string) =>
  Object.values(db.all(`PRAGMA ${name}`)[0] ?? {})[0];

test("a new database is opened in WAL mode with synchronous = FULL and 16 KiB pages", () => {
  const db = openSqlite(join(dir, "new.sqlite"));
  try {
    expect(pragma(db, "journal_mode")).toBe("wal");
    // 2 is FULL: every COMMIT fsyncs the write-ahead log before an ack goes out.
    expect(pragma(db, "synchronous")).toBe(2);
    expect(pragma(db, "page_size")).toBe(16_384);
  } finally {
    db.close();
  }
});

test("a database made before keeps its page size and is still opened with synchronous = FULL", () => {
  const path = join(dir, "old.sqlite");
  const old = new Database(path);
  old.pragma("journal_mode = WAL");
  old.exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)");
  old.close();
  const db = openSqlite(path);
  try {
    expect(pragma(db, "page_size")).toBe(4_096);
    expect(pragma(db, "synchronous")).toBe(2);
    expect(db.all("SELECT x FROM t")).toEqual([{ x: 1 }]);
  } finally {
    db.close();
  }
});
