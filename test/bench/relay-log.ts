/**
 * The `uws-fsync` relay's RelayLog: one append-only file per channel in a folder of its own,
 * synced with fdatasync on the event loop's thread, as Kaiten's Node host syncs its commits
 * (SQLite's `synchronous = FULL`). The files grow as they are written, as a new partition's
 * write-ahead log does; nothing is read back.
 */
import { fdatasyncSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { RelayLog } from "./relay-core.ts";

export function fileLog(dir: string): RelayLog {
  const files = new Map<string, number>();
  const written = new Set<number>();
  let next = 0;
  return {
    append(path, batch) {
      let fd = files.get(path);
      if (fd === undefined) {
        fd = openSync(join(dir, `channel-${next++}.log`), "a");
        files.set(path, fd);
      }
      writeSync(fd, batch);
      written.add(fd);
    },
    sync() {
      for (const fd of written) fdatasyncSync(fd);
      written.clear();
    },
  };
}
