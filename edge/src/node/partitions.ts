/**
 * The Node host's partition owners: one in-process owner per (topic, partition), holding the
 * core's Partition over its own SQLite file, with the same single-writer semantics as a
 * Durable Object (everything runs on the one JavaScript thread; a group commit is one
 * synchronous, fsynced transaction). Owners open on first use and stay open.
 */
import { randomInt } from "node:crypto";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { KaitenError } from "@kaiten/protocol";
import { CommitWaiters } from "../core/commit-waiters.ts";
import { Partition } from "../core/partition.ts";
import type { PartitionInfo } from "../core/port.ts";
import { SqliteLogStorage } from "../core/sqlite-log-storage.ts";
import { StreamStore } from "../core/stream-store.ts";
import type { Host, PeerSocket, TopicConfig } from "../core/types.ts";
import { type NodeSql, openSqlite, type Synchronous } from "./sqlite.ts";

const LOG_PREFIX = "[kaiten:partition]";
/** Node's timers for the core's CommitWaiters; a waiting reader keeps no process alive. */
const TIMERS = {
  set: (fn: () => void, ms: number) => setTimeout(fn, ms).unref(),
  clear: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
};
/** setTimeout's longest delay; a later alarm is set again when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class PartitionOwner {
  readonly partition: Partition;
  readonly sockets = new Set<PeerSocket>();
  /** HTTP readers waiting for the next commit (long-poll, SSE; PROTOCOL.md §17). */
  readonly waiters = new CommitWaiters(TIMERS);
  private readonly db: NodeSql;
  private readonly storage: SqliteLogStorage;
  /** The partition's Durable Stream row, made on first use (PROTOCOL.md §18). */
  private streamStore: StreamStore | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly topic: string,
    readonly index: number,
    path: string,
    config: TopicConfig,
    synchronous: Synchronous,
  ) {
    this.db = openSqlite(path, { synchronous });
    const host: Host = {
      now: () => Date.now(),
      randomEpoch: () => randomInt(1, 2 ** 32),
      // After the current I/O: every message read in this turn joins the group commit.
      defer: (fn) => void setImmediate(() => this.contained("deferred work", fn)),
      log: (message, error) => this.logError(message, error),
    };
    this.storage = new SqliteLogStorage(this.db);
    this.partition = new Partition({
      storage: this.storage,
      host,
      defaults: config,
      sockets: () => this.sockets,
      alarm: { set: (at) => this.setAlarm(at) },
      onCommit: (meta) => this.waiters.wake(meta.highWatermark),
    });
    this.partition.log.configure(config);
    this.partition.retention.ensure();
  }

  get name(): string {
    return `${this.topic}/${this.index}`;
  }

  /** Logs with the prefix and the partition's name, so a log line says whose it is. */
  logError(message: string, error?: unknown): void {
    console.error(`${LOG_PREFIX} ${this.name}: ${message}`, error ?? "");
  }

  contained(what: string, fn: () => void): void {
    if (this.closed) return;
    try {
      fn();
    } catch (error) {
      this.logError(`${what} failed`, error);
    }
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

  streams(): StreamStore {
    this.streamStore ??= new StreamStore(this.db, this.partition.log, this.waiters, () =>
      this.destroyLog(),
    );
    return this.streamStore;
  }

  /** A closed Durable Stream takes no more records, from any API (PROTOCOL.md §18.4). */
  refuseIfClosed(): void {
    if (this.streams().closed)
      throw new KaitenError("INVALID_REQUEST", "the stream is closed; it takes no more records");
  }

  info(): PartitionInfo {
    const { epoch } = this.partition.log.state;
    const { highWatermark, earliestOffset, subscribers } = this.partition.gauges();
    return { epoch, earliestOffset, highWatermark, subscribers, ...this.storage.usage };
  }

  /** Deletes the log and the stream row, closes every socket, wakes waiting readers. */
  destroy(): void {
    this.contained("delete", () => {
      this.streams().wipe();
      this.destroyLog();
    });
  }

  private destroyLog(): void {
    this.partition.destroy();
    this.waiters.wakeAll();
  }

  /** Commits what is pending (acks follow in this turn's promise jobs), then closes the file. */
  flush(): void {
    this.contained("final commit", () => this.partition.log.flush());
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.db.close();
  }
}

/** Every partition owner of the process, by "topic/partition". */
export class Partitions {
  private readonly owners = new Map<string, PartitionOwner>();

  constructor(
    private readonly dataDir: string,
    private readonly synchronous: Synchronous,
  ) {
    mkdirSync(join(dataDir, "logs"), { recursive: true });
  }

  /** The owner of a partition of an existing topic, opened on first use. */
  get(topic: string, index: number, config: TopicConfig): PartitionOwner {
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
      );
      this.owners.set(key, owner);
    } else {
      owner.partition.log.configure(config);
    }
    return owner;
  }

  /** Deletes a topic's logs: its sockets are closed with TOPIC_DELETED (§9). */
  deleteTopic(topic: string, partitions: number): void {
    for (let i = 0; i < partitions; i++) this.deletePartition(topic, i);
    rmSync(join(this.dataDir, "logs", topic), { recursive: true, force: true });
  }

  /** Deletes one partition's log and file (PartitionPort.destroy). */
  deletePartition(topic: string, index: number): void {
    const key = `${topic}/${index}`;
    const owner = this.owners.get(key);
    if (owner) {
      owner.destroy();
      owner.close();
      this.owners.delete(key);
    }
    const file = join(this.dataDir, "logs", topic, `${index}.sqlite`);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  }

  all(): Iterable<PartitionOwner> {
    return this.owners.values();
  }

  flushAll(): void {
    for (const owner of this.owners.values()) owner.flush();
  }

  closeAll(): void {
    for (const owner of this.owners.values()) owner.close();
    this.owners.clear();
  }
}
