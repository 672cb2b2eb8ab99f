/** The storage suite (edge/suites/log-storage.ts) over better-sqlite3 on disk and over memory. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { MemoryLogStorage, memoryDisk } from "../src/core/memory-log-storage.ts";
import { SqliteLogStorage } from "../src/core/sqlite-log-storage.ts";
import { type NodeSql, openSqlite } from "../src/node/sqlite.ts";
import { logStorageSuite } from "../suites/log-storage.ts";

const dir = mkdtempSync(join(tmpdir(), "kaiten-storage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

logStorageSuite("SQLite on disk (better-sqlite3)", async (test) => {
  const path = join(dir, `log-${++files}.sqlite`);
  const open: NodeSql[] = [openSqlite(path)];
  try {
    await test({
      storage: new SqliteLogStorage(open[0] as NodeSql),
      reopen: () => {
        for (const db of open.splice(0)) db.close();
        const db = openSqlite(path);
        open.push(db);
        return new SqliteLogStorage(db);
      },
    });
  } finally {
    for (const db of open) db.close();
  }
});

logStorageSuite("memory", async (test) => {
  const disk = memoryDisk();
  await test({ storage: new MemoryLogStorage(disk), reopen: () => new MemoryLogStorage(disk) });
});
