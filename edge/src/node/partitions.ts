/**
 * The Node host's partition owners: one in-process owner per (topic, partition), holding the
 * core's Partition over its own SQLite file, with the same single-writer semantics as a
 * Durable Object (everything runs on the one JavaScript thread). Owners open on first use;
 * idle ones close past a limit (below).
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
 *
 * Each partition checkpoints its write-ahead log every CHECKPOINT_PAGES pages (4 MiB).
 *
 * Open partitions are bounded, as open groups are (port.ts): past MAX_OPEN_PARTITIONS the least
 * recently used partitions with nothing in flight (PartitionService.idle) and no socket are
 * closed, as a Durable Object is evicted, and open again from their files at their next use.
 * A closed partition's retention alarm stays set here and opens it when it fires; after a
 * restart, every stored partition of a topic with time retention is opened once, which sets
 * its alarm again from its log (a Durable Object keeps its alarm in storage).
 */
import { randomInt } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KaitenError } from "@kaiten/protocol";
import type { Timers } from "../core/commit-waiters.ts";
import type { AppendMetrics } from "../core/metrics.ts";
import type { Partition } from "../core/partition.ts";
import { PartitionService } from "../core/partition-service.ts";
import { MIN_ALARM_DELAY_MS } from "../core/retention.ts";
import type { PeerSocket, TopicConfig } from "../core/types.ts";
import { AlarmTimer } from "./alarm-timer.ts";
import { CommitRound } from "./commit-round.ts";
import { type NodeSql, openSqlite, type Synchronous } from "./sqlite.ts";
import { type SyncFiles, SyncPool } from "./sync-pool.ts";

/**
 * Partitions open at once (each holds its database, write-ahead log and shared-memory files
 * and a page cache); past it the least recently used idle ones close. Busy ones never do.
 */
export const MAX_OPEN_PARTITIONS = 1_000;
/**
 * Pages (16 KiB) of write-ahead log after which a commit checkpoints it into the database, on
 * the thread; the log's file then stays at about this size and is written again from its
 * start. SQLite's default, 1,000 pages, is 16 MiB of log per busy partition and a checkpoint
 * stalling the thread about 13 ms; 256 pages keep 4 MiB and stalls under 4 ms, for the same
 * throughput (docs/BENCHMARKS.md, "Checkpoints on the Node host").
 */
const CHECKPOINT_PAGES = 256;
/**
 * Page cache per partition, KiB (SQLite's default is 2,000). A busy partition fills its cache
 * with the pages it writes and reads; measured after 3 MB written and read back by each of 100
 * partitions: 3.6 MiB of the process per partition with the default, 1.0 MiB with 512 KiB,
 * which keeps a host at its limit of open partitions near 1 GB instead of 3.6. Reads come from
 * the operating system's cache past it; W3 (catch-up) measured 0.94-0.99x in paired runs.
 */
const CACHE_KIB = 512;
/** A partition asked for within this long is not closed: its caller may not have used it yet. */
const RECENT_MS = 1_000;
/** After a restart, the partitions with time retention open one per this many ms. */
const RESTORE_SPACING_MS = 5;

/** Node timers that never keep a stopping process alive (HTTP waiters', metrics'). */
export const NODE_TIMERS: Timers = {
  set: (fn, ms) => setTimeout(fn, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class PartitionOwner {
  /** The core's partition service: the log, subscribers, HTTP waiters, stream row (PartitionPort). */
  readonly service: PartitionService;
  readonly sockets = new Set<PeerSocket>();
  private readonly db: NodeSql;
  /** Retention's alarm. */
  private readonly alarm = new AlarmTimer(() => this.alarmFired());
  private closed = false;
  /** When the host last handed this owner out (Partitions.get). */
  lastUsed = Date.now();
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
    this.db.exec(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`);
    this.db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
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
      alarm: { set: (at) => this.alarm.set(at) },
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

  /** "topic/partition": its key in Partitions. */
  get name(): string {
    return keyOf(this.topic, this.index);
  }

  /** Logs with the prefix and the partition's name, so a log line says whose it is. */
  logError(message: string, error?: unknown): void {
    this.service.logError(message, error);
  }

  contained(what: string, fn: () => void): void {
    if (this.closed) return;
    this.service.contained(what, fn);
  }

  /** Retention's alarm fired (here, or for a closed partition in Partitions, which opened it). */
  alarmFired(): void {
    this.contained("retention", () => this.partition.retention.fired());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** No socket and nothing in flight: closing it now loses nothing (see the top of this file). */
  get idle(): boolean {
    return !this.closed && this.sockets.size === 0 && this.service.idle();
  }

  /** The topic config its log keeps (the registry's copy, stored with the log). */
  get config(): TopicConfig {
    return this.partition.log.topicConfig;
  }

  /** Commits what is pending (acks follow in this turn's promise jobs), then closes the file. */
  flush(): void {
    this.contained("final commit", () => this.partition.log.flush());
  }

  /** Closes the files; returns when its retention alarm was due to fire (null: none set). */
  close(): number | null {
    if (this.closed) return null;
    this.closed = true;
    const due = this.alarm.at;
    this.alarm.clear();
    this.service.closed();
    try {
      this.db.close();
    } finally {
      if (this.wal >= 0) closeSync(this.wal);
      this.wal = -1;
    }
    return due;
  }
}

export interface PartitionsOptions {
  synchronous: Synchronous;
  /** How partitions append their `__metrics` records. Default: none published */
  metrics?: AppendMetrics | null;
  /** How the round syncs files (tests inject failures). Default: a SyncPool */
  sync?: SyncFiles;
  /** Default: MAX_OPEN_PARTITIONS. */
  maxOpen?: number;
}

const keyOf = (topic: string, index: number) => `${topic}/${index}`;

/** Every partition owner of the process, by "topic/partition", least recently used first. */
export class Partitions {
  private readonly owners = new Map<string, PartitionOwner>();
  /** Retention alarms of closed partitions: each opens its partition when it fires. */
  private readonly sleeping = new Map<string, AlarmTimer>();
  private closed = false;
  private readonly pool: SyncPool | null;
  private readonly round: CommitRound;

  private readonly synchronous: Synchronous;
  private readonly metrics: AppendMetrics | null;
  private readonly maxOpen: number;

  constructor(
    private readonly dataDir: string,
    o: PartitionsOptions,
  ) {
    this.synchronous = o.synchronous;
    this.metrics = o.metrics ?? null;
    this.maxOpen = o.maxOpen ?? MAX_OPEN_PARTITIONS;
    mkdirSync(join(dataDir, "logs"), { recursive: true });
    this.pool = o.sync ? null : new SyncPool();
    this.round = new CommitRound(o.sync ?? (this.pool as SyncPool).syncAll);
  }

  /** The owner of a partition of an existing topic, opened on first use. */
  get(topic: string, index: number, config: TopicConfig): PartitionOwner {
    if (this.closed) throw new KaitenError("INTERNAL", "the server is stopping");
    const key = keyOf(topic, index);
    let owner = this.owners.get(key);
    if (owner) {
      this.owners.delete(key);
      owner.partition.log.configure(config);
    } else {
      // Topic names are [A-Za-z0-9._-] and never "." or "..": safe as a directory name.
      const dir = join(this.dataDir, "logs", topic);
      mkdirSync(dir, { recursive: true });
      // Opening sets the retention alarm again from the log, if it has one.
      this.cancelWake(key);
      owner = new PartitionOwner(
        topic,
        index,
        this.file(topic, index),
        config,
        this.synchronous,
        this.metrics,
        this.round,
        (failed) => this.drop(failed),
      );
    }
    owner.lastUsed = Date.now();
    this.owners.set(key, owner);
    this.closeIdle();
    return owner;
  }

  /** Whether the partition's owner is open now. */
  isOpen(topic: string, index: number): boolean {
    return this.owners.has(keyOf(topic, index));
  }

  get openCount(): number {
    return this.owners.size;
  }

  private file(topic: string, index: number): string {
    return join(this.dataDir, "logs", topic, `${index}.sqlite`);
  }

  /**
   * Past `maxOpen`, closes the least recently used partitions that are idle and were not asked
   * for in the last RECENT_MS (a socket being upgraded holds its owner before it attaches).
   * Busy ones stay open, so the bound holds for idle partitions only.
   */
  private closeIdle(): void {
    if (this.owners.size <= this.maxOpen) return;
    const recent = Date.now() - RECENT_MS;
    for (const [key, owner] of this.owners) {
      if (this.owners.size <= this.maxOpen) return;
      if (owner.lastUsed > recent || !owner.idle) continue;
      this.owners.delete(key);
      this.sleep(owner);
    }
  }

  /** Closes an owner; its retention alarm, if set, opens it again when it fires. */
  private sleep(owner: PartitionOwner, why = "an idle partition"): void {
    let due: number | null = null;
    try {
      due = owner.close();
    } catch (error) {
      owner.logError(`closing ${why} failed`, error);
    }
    if (due !== null) this.wakeAt(owner.topic, owner.index, owner.config, due);
  }

  /** Opens the partition at `at` and runs its retention; never throws. */
  private wakeAt(topic: string, index: number, config: TopicConfig, at: number): void {
    const key = keyOf(topic, index);
    const alarm = new AlarmTimer(() => {
      this.sleeping.delete(key);
      if (this.closed) return;
      try {
        this.get(topic, index, config).alarmFired();
      } catch (error) {
        console.error(`[kaiten:partition] ${key}: opening for retention failed`, error);
      }
    });
    this.cancelWake(key);
    this.sleeping.set(key, alarm);
    alarm.set(at);
  }

  private cancelWake(key: string): void {
    this.sleeping.get(key)?.clear();
    this.sleeping.delete(key);
  }

  /**
   * After a start: every stored partition of a topic with time retention opens once, soon and
   * a few at a time, which sets its alarm from its log (the alarm of a Durable Object outlives
   * its process; a timer does not). Partitions never written have no file and are skipped.
   */
  restoreRetention(topics: Iterable<{ name: string } & TopicConfig>): void {
    if (this.closed) return;
    let at = Date.now() + MIN_ALARM_DELAY_MS;
    for (const t of topics) {
      if (t.retentionMs < 0) continue;
      for (let i = 0; i < t.partitions; i++) {
        const key = keyOf(t.name, i);
        if (this.owners.has(key) || this.sleeping.has(key)) continue;
        if (!existsSync(this.file(t.name, i))) continue;
        this.wakeAt(t.name, i, configOf(t), at);
        at += RESTORE_SPACING_MS;
      }
    }
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
    const key = keyOf(topic, index);
    this.cancelWake(key);
    const owner = this.owners.get(key);
    if (owner) {
      this.owners.delete(key);
      try {
        await owner.service.destroy();
      } finally {
        owner.close();
      }
    }
    const file = this.file(topic, index);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  }

  /** Forgets and closes an owner whose storage failed; the next use opens it again. */
  private drop(owner: PartitionOwner): void {
    if (this.owners.get(owner.name) === owner) this.owners.delete(owner.name);
    this.sleep(owner, "after a storage failure");
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
    for (const alarm of this.sleeping.values()) alarm.clear();
    this.sleeping.clear();
    for (const owner of this.owners.values()) owner.close();
    this.owners.clear();
    this.pool?.close();
  }
}

function configOf(t: TopicConfig): TopicConfig {
  const { partitions, retentionMs, retentionBytes, maxRecordBytes } = t;
  return { partitions, retentionMs, retentionBytes, maxRecordBytes };
}
