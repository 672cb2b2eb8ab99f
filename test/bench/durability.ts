/**
 * What "an ack means durable" costs on the Node host: SQLite's `synchronous` setting in WAL
 * mode, FULL (fsync at every commit; for the host, the durability it uses: its partitions
 * commit with NORMAL and it syncs their write-ahead logs before acking, partitions.ts)
 * against NORMAL (sync at checkpoints: survives kill -9, not a power loss) and OFF (never
 * syncs). Two views, both on the disk the repository is on:
 *
 * - storage: group commits per second of SqliteLogStorage, one 4 KiB chunk each, in-process
 *   (SQLite's own setting, fsync inside the COMMIT);
 * - end to end: acknowledged records/s of one WebSocket producer against a Node host
 *   process, sequential (window 1: one commit per batch) and pipelined (window 32: commits
 *   grow to hold what arrives during the previous fsync).
 *
 * `npm run bench:durability` bundles and runs it; it prints a table and writes
 * test/results/durability.json.
 */
import { fork } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import { SqliteLogStorage } from "../../edge/src/core/sqlite-log-storage.ts";
import type { LogMeta } from "../../edge/src/core/types.ts";
import { openSqlite, type Synchronous } from "../../edge/src/node/sqlite.ts";
import { Connection, jsonRecord, type OutgoingBatch, pipeline } from "../lib/client.ts";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const SETTINGS: Synchronous[] = ["FULL", "NORMAL", "OFF"];
const COMMITS = Number(process.env.KAITEN_DURABILITY_COMMITS ?? 2_000);
const BATCHES = Number(process.env.KAITEN_DURABILITY_BATCHES ?? 3_000);

function storageCommitsPerSecond(dir: string, synchronous: Synchronous): number {
  const db = openSqlite(join(dir, `storage-${synchronous}.sqlite`), { synchronous });
  const storage = new SqliteLogStorage(db);
  const value = new Uint8Array(4000).fill(0x61);
  const data = encodeBatch([
    { key: null, value, format: ValueFormat.Bytes, headers: [], timestamp: 1 },
  ]);
  let meta: LogMeta = { epoch: 1, logStart: 0, highWatermark: 0, totalBytes: 0, maxTimestamp: 1 };
  storage.commit([], [], meta);
  const started = performance.now();
  for (let i = 0; i < COMMITS; i++) {
    const chunk = { baseOffset: i, recordCount: 1, firstTimestamp: 1, maxTimestamp: 1, data };
    meta = { ...meta, highWatermark: i + 1, totalBytes: meta.totalBytes + data.length };
    storage.commit([chunk], [], meta);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
  return COMMITS / seconds;
}

async function startHost(dir: string, synchronous: Synchronous) {
  const child = fork(join(here, "node-host-process.mjs"), [dir, synchronous], { stdio: "pipe" });
  const url = await new Promise<string>((resolve, reject) => {
    child.on("message", (m) => resolve(String(m)));
    child.on("exit", (code) => reject(new Error(`the Node host exited (${code})`)));
  });
  const stop = () =>
    new Promise((resolve) => {
      child.on("exit", resolve);
      child.kill("SIGTERM");
    });
  return { url, stop };
}

async function ackedRecordsPerSecond(url: string, topic: string, window: number) {
  const c = await Connection.open(url, topic, 0);
  const batches: OutgoingBatch[] = Array.from({ length: BATCHES }, (_, b) => ({
    records: Array.from({ length: 10 }, (_, i) => jsonRecord({ b, i, pad: "x".repeat(80) })),
  }));
  await pipeline(c, batches.slice(0, 50), window);
  const started = performance.now();
  const r = await pipeline(c, batches, window);
  const seconds = (performance.now() - started) / 1000;
  if (r.failure) throw r.failure;
  await c.close();
  return (BATCHES * 10) / seconds;
}

const cache = join(root, "node_modules/.cache");
mkdirSync(cache, { recursive: true });
const dir = mkdtempSync(join(cache, "kaiten-durability-"));
const rows: Array<Record<string, number | string>> = [];
try {
  for (const synchronous of SETTINGS) {
    const commits = storageCommitsPerSecond(dir, synchronous);
    const host = await startHost(join(dir, `host-${synchronous}`), synchronous);
    const sequential = await ackedRecordsPerSecond(host.url, "seq", 1);
    const pipelined = await ackedRecordsPerSecond(host.url, "pipe", 32);
    await host.stop();
    rows.push({ synchronous, commitsPerSecond: commits, sequential, pipelined });
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const fmt = (n: number | string) =>
  typeof n === "number" ? Math.round(n).toLocaleString("en") : n;
console.log("synchronous | storage commits/s (4 KiB) | acked records/s, window 1 | window 32");
for (const r of rows) {
  console.log(
    `${r.synchronous} | ${fmt(r.commitsPerSecond as number)} | ${fmt(r.sequential as number)} | ${fmt(r.pipelined as number)}`,
  );
}
mkdirSync(join(root, "test/results"), { recursive: true });
writeFileSync(
  join(root, "test/results/durability.json"),
  `${JSON.stringify({ at: new Date().toISOString(), commits: COMMITS, batches: BATCHES, rows }, null, 2)}\n`,
);
