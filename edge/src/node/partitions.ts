/**
 * The Node host's partition owners: one in-process owner per (topic, partition), holding the
 * core's Partition over its own SQLite file, with the same single-writer semantics as a
 * Durable Object (everything runs on the one JavaScript thread). Owners open on first use and
 * stay open.
 *
 * Durability (`synchronous = "FULL"`, the default): a partition's database runs in WAL mode
 * with SQLite's `synchronous = NORMAL`, so a COMMIT writes the write-ahead log without
 * syncing it, and the host syncs it (fdatasync of the `-wal` file) before the commit's acks
 * and records go out: at the end of the turn's commit round, in parallel for every partition
 * that wrote in it (commit-round.ts, sync-pool.ts). That is the durability of FULL (a sync of
 * the write-ahead log covers every commit written to it before), with one sync per partition
 * per round; SQLite's checkpoints sync the log and the database themselves (NORMAL does).
 * A failed sync acknowledges nothing: the partition closes its sockets (1011) and reopens from
 * what is on disk at its next use.
 */
import { randomInt } from "node:crypto";
import { closeSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KaitenError } from "@kaiten/protocol";
import type { Timers } from "../core/commit-waiters.ts";
import type { AppendMetrics } from "../core/metrics.ts";
import type { Partition } from "../core/partition.ts";
import { PartitionService } from "../core/partition-service.ts";
import type { PeerSocket, TopicConfig } from "../core/types.ts";
import { CommitRound } from "./commit-round.ts";
import { type NodeSql, openSqlite, type Synchronous } from "./sqlite.ts";
import { type SyncFiles, SyncPool } from "./sync-pool.ts";

/** setTimeout's longest delay; a later alarm is set again when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Timers of HTTP waiters: like retention's, they must not keep a stopping process alive. */
/** Node timers that never keep a stopping process alive. */
export const NODE_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class PartitionOwner {
  /** The core's partition service: the log, subscribers, HTTP waiters, stream row (PartitionPort). */
  readonly service: PartitionService;
  readonly sockets = new Set<PeerSocket>();
  private readonly db: NodeSql;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  /** The `-wal` file, opened at the first sync. */
  private wal = -1;

  constructor(
    readonly topic: string,
    readonly index: number,
    private readonly path: string,
    config: TopicConfig,
    synchronous: Synchronous,
    metrics: AppendMetrics | null,
    round: CommitRound,
    /** The host stops using this owner: its sync failed. */
    private readonly failed: (owner: PartitionOwner) => void,
  ) {
    // FULL's durability, with the sync done by the host (see the top of this file).
    const syncs = synchronous === "FULL";
    this.db = openSqlite(path, { synchronous: syncs ? "NORMAL" : synchronous });
    this.service = new PartitionService({
      sql: this.db,
      now: () => Date.now(),
      randomEpoch: () => randomInt(1, 2 ** 32),
      // After the current I/O: every message read in this turn joins the group commit.
      defer: (fn) => round.defer(() => this.closed || fn()),
      ...(syncs
        ? {
            durable: (release: (error?: Error) => void) =>
              round.durable(
                () => this.walFile(),
                (error) => {
                  release(error);
                  if (error) this.syncFailed(error);
                },
              ),
          }
        : {}),
      timers: NODE_TIMERS,
      log: console.error,
      defaults: config,
      sockets: () => this.sockets,
      alarm: { set: (at) => this.setAlarm(at) },
      // Through the Node port to `__metrics` (PROTOCOL.md §14), as on Cloudflare.
      metrics,
    });
    // Configures the log and names the partition in every log line from the start.
    this.service.identify({ topic, partition: index, config });
    this.partition.retention.ensure();
  }

  /**
   * The write-ahead log's descriptor, opened at the first sync (after the first commit made
   * the file) and closed after the database. SQLite keeps that file, the same inode, for as
   * long as a connection has the database open in WAL mode: it deletes it only when the last
   * connection closes (or the journal mode changes, which the host never does); checkpoints
   * rewrite it from the start. (Checking the file's links at each sync would cost about 30 µs
   * a commit here: a fifth of a small commit.)
   */
  private walFile(): number {
    if (this.wal < 0) this.wal = openSync(`${this.path}-wal`, "r");
    return this.wal;
  }

  /** Nothing of the commit was acknowledged; what is on disk is unknown: start again from it. */
  private syncFailed(error: Error): void {
    this.logError("the write-ahead log could not be synced; closing the partition", error);
    for (const peer of this.sockets) peer.close(1011, "storage failure");
    this.failed(this);
  }

  get partition(): Partition {
    return this.service.partition;
  }

  get name(): string {
    return `${this.topic}/${this.index}`;
  }

  /** Logs with the prefix and the partition's name, so a log line says whose it is. */
  logError(message: string, error?: unknown): void {
    this.service.logError(message, error);
  }

  contained(what: string, fn: () => void): void {
    if (this.closed) return;
    this.service.contained(what, fn);
  }

  private setAlarm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (Date.now() < at) this.setAlarm(at);
      else this.contained("retention", () => this.partition.retention.fired());
    }, delay);
    // Retention must not keep a stopping process alive.
    this.timer.unref();
  }

  /** Commits what is pending (acks follow in this turn's promise jobs), then closes the file. */
  flush(): void {
    this.contained("final commit", () => this.partition.log.flush());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    try {
      this.db.close();
    } finally {
      if (this.wal >= 0) closeSync(this.wal);
      this.wal = -1;
    }
  }
}

/** Every partition owner of the process, by "topic/partition". */
export class Partitions {
  private readonly owners = new Map<string, PartitionOwner>();
  private closed = false;
  private readonly pool: SyncPool | null;
  private readonly round: CommitRound;

  constructor(
    private readonly dataDir: string,
    private readonly synchronous: Synchronous,
    /** How partitions append their `__metrics` records. Default: none published */
    private readonly metrics: AppendMetrics | null = null,
    /** How the round syncs files (tests inject failures). Default: a SyncPool */
    sync?: SyncFiles,
  ) {
    mkdirSync(join(dataDir, "logs"), { recursive: true });
    this.pool = sync ? null : new SyncPool();
    this.round = new CommitRound(sync ?? (this.pool as SyncPool).syncAll);
  }

  /** The owner of a partition of an existing topic, opened on first use. */
  get(topic: string, index: number, config: TopicConfig): PartitionOwner {
    if (this.closed) throw new KaitenError("INTERNAL", "the server is stopping");
    const key = `${topic}/${index}`;
    let owner = this.owners.get(key);
    if (!owner) {
      // Topic names are [A-Za-z0-9._-] and never "." or "..": safe as a directory name.
      const dir = join(this.dataDir, "logs", topic);
      mkdirSync(dir, { recursive: true });
      owner = new PartitionOwner(
        topic,
        index,
        join(dir, `${index}.sqlite`),
        config,
        this.synchronous,
        this.metrics,
        this.round,
        (failed) => this.drop(failed),
      );
      this.owners.set(key, owner);
    } else {
      owner.partition.log.configure(config);
    }
    return owner;
  }

  /** Deletes a topic's logs: its sockets are closed with TOPIC_DELETED (§9). */
  async deleteTopic(topic: string, partitions: number): Promise<void> {
    for (let i = 0; i < partitions; i++) await this.deletePartition(topic, i);
    rmSync(join(this.dataDir, "logs", topic), { recursive: true, force: true });
  }

  /**
   * Deletes one partition (PartitionPort.destroy): the service closes its sockets and wakes
   * its HTTP waiters, then the file goes; the next use starts a new log with a new epoch.
   */
  async deletePartition(topic: string, index: number): Promise<void> {
    const key = `${topic}/${index}`;
    const owner = this.owners.get(key);
    if (owner) {
      this.owners.delete(key);
      try {
        await owner.service.destroy();
      } finally {
        owner.close();
      }
    }
    const file = join(this.dataDir, "logs", topic, `${index}.sqlite`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  }

  /** Forgets and closes an owner whose storage failed; the next use opens it again. */
  private drop(owner: PartitionOwner): void {
    const key = `${owner.topic}/${owner.index}`;
    if (this.owners.get(key) === owner) this.owners.delete(key);
    try {
      owner.close();
    } catch (error) {
      owner.logError("closing after a storage failure failed", error);
    }
  }

  all(): Iterable<PartitionOwner> {
    return this.owners.values();
  }

  flushAll(): void {
    for (const owner of this.owners.values()) owner.flush();
  }

  /** Wakes every reader waiting for a commit, to answer now: the server is stopping. */
  wakeReaders(): void {
    for (const owner of this.owners.values()) owner.service.wakeReaders();
  }

  /** Closes every file; no partition opens afterwards (a late metrics timer is refused). */
  closeAll(): void {
    this.closed = true;
    for (const owner of this.owners.values()) owner.close();
    this.owners.clear();
    this.pool?.close();
  }
}
