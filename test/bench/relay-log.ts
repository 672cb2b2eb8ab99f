/**
 * The durable relays' RelayLogs, each in a folder of its own, synced with fdatasync on the
 * event loop's thread as Kaiten's Node host syncs its commits:
 * - `fileLog` (`uws-fsync`): one append-only file per channel. The files grow as they are
 *   written, as a new partition's write-ahead log does; nothing is read back.
 * - `sqliteLog` (`uws-sqlite`): one SQLite database per channel, opened by the Node host's
 *   own `openSqlite` with the settings its partitions use (16 KiB pages, WAL, `synchronous =
 *   NORMAL`, SQLite's autocheckpoints); each sync commits the turn's batches of a channel as
 *   one row in one transaction, then fdatasyncs the `-wal` files of the channels written, in
 *   parallel with the host's own SyncPool as the host does (W6). The least a broker that
 *   keeps its log in SQLite and acknowledges after a sync must do: no index, no idempotence,
 *   no reads, none of Kaiten's own work.
 */
import { fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { concat } from "@kaiten/protocol";
import { type NodeSql, openSqlite } from "../../edge/src/node/sqlite.ts";
import { SyncPool } from "../../edge/src/node/sync-pool.ts";
import type { RelayLog } from "./relay-core.ts";

export function fileLog(dir: string): RelayLog {
  const files = new Map<string, number>();
  const written = new Set<number>();
  let next = 0;
  const file = (path: string): number => {
    let fd = files.get(path);
    if (fd === undefined) {
      fd = openSync(join(dir, `channel-${next++}.log`), "a");
      files.set(path, fd);
    }
    return fd;
  };
  return {
    open: file,
    append(path, batch) {
      const fd = file(path);
      writeSync(fd, batch);
      written.add(fd);
    },
    sync() {
      for (const fd of written) fdatasyncSync(fd);
      written.clear();
    },
  };
}

export function sqliteLog(dir: string): RelayLog {
  interface Channel {
    db: NodeSql;
    path: string;
    wal: number;
    pending: Uint8Array[];
  }
  const channels = new Map<string, Channel>();
  const written = new Set<Channel>();
  const pool = new SyncPool();
  const channel = (path: string): Channel => {
    let c = channels.get(path);
    if (!c) {
      const file = join(dir, `channel-${channels.size}.sqlite`);
      const db = openSqlite(file, { synchronous: "NORMAL" });
      db.exec("CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, data BLOB NOT NULL)");
      c = { db, path: file, wal: -1, pending: [] };
      channels.set(path, c);
    }
    return c;
  };
  return {
    open: (path) => void channel(path),
    append(path, batch) {
      const c = channel(path);
      // The frame's buffer is only valid during the message call.
      c.pending.push(batch.slice());
      written.add(c);
    },
    sync() {
      const wals: number[] = [];
      for (const c of written) {
        const data = concat(c.pending);
        c.pending = [];
        c.db.transaction(() => c.db.run("INSERT INTO log (data) VALUES (?)", data));
        if (c.wal < 0) c.wal = openSync(`${c.path}-wal`, "r");
        wals.push(c.wal);
      }
      written.clear();
      const failed = pool.syncAll(wals).find((e) => e !== null);
      if (failed) throw failed;
    },
  };
}
