/**
 * One partition's owner as a service (PartitionPort): the core's Partition over SQLite, the
 * HTTP readers waiting for commits (§17), the Durable Stream row (§18), the partition's
 * identity row and its metrics publisher. A host wraps it: the Cloudflare PartitionObject
 * adds hibernatable WebSockets and the Durable Object alarm; a Node host adds its sockets
 * and a timer. Every entry point contains its errors (STYLE.md habit 6): an unexpected one
 * is logged naming the topic and partition and answered as data.
 */
import { KaitenError } from "@kaiten/protocol";
import { CommitWaiters, type Timers } from "./commit-waiters.ts";
import { type AppendMetrics, MetricsPublisher } from "./metrics.ts";
import { Partition, type ReadResult } from "./partition.ts";
import type { AppendResult } from "./partition-log.ts";
import {
  type AppendInput,
  type PartitionInfo,
  type PartitionPort,
  type PartitionRef,
  type ReadInput,
  type RpcResult,
  rpcError,
  type WaitInput,
} from "./port.ts";
import type { Alarm } from "./retention.ts";
import type { SqlDriver } from "./sql.ts";
import { SqliteLogStorage } from "./sqlite-log-storage.ts";
import { PartitionStats } from "./stats.ts";
import { type StreamAnswer, type StreamOp, StreamStore } from "./stream-store.ts";
import type { Log, PeerSocket, TopicConfig } from "./types.ts";

const LOG_PREFIX = "[kaiten:partition]";

export interface PartitionServiceDeps {
  /** The partition's own database (its log, stream and identity tables). */
  sql: SqlDriver;
  now: () => number;
  /** A new log epoch: a random non-zero 32-bit number. */
  randomEpoch: () => number;
  /** Runs `fn` after the current event (Host.defer); the service contains its errors. */
  defer: (fn: () => void) => void;
  /** Host.durable: for storage whose commit is synced afterwards. Default: durable at commit */
  durable?: (release: (error?: Error) => void) => void;
  /** Timers for HTTP waiters and the metrics publisher. */
  timers: Timers;
  /** Where log lines go (console.error); the service prefixes them with the partition. */
  log: Log;
  /** The config used until the caller's copy is known (the deployment's topic defaults). */
  defaults: TopicConfig;
  /** Every connected socket of this partition, subscribed or not. */
  sockets: () => Iterable<PeerSocket>;
  /** The host's one timer (retention; the host may share it, as the DO does with token expiry). */
  alarm: Alarm;
  /** How `__metrics` records are appended; null: this partition publishes none. */
  metrics: AppendMetrics | null;
}

type Identity = { topic: string; partition: number };

export class PartitionService implements PartitionPort {
  readonly partition: Partition;
  private readonly storage: SqliteLogStorage;
  /** HTTP readers waiting for the next commit (long-poll, SSE; PROTOCOL.md §17). */
  private readonly waiters: CommitWaiters;
  /** The partition's Durable Stream row, made on first use (PROTOCOL.md §18). */
  private streamStore: StreamStore | null = null;
  private readonly metrics: MetricsPublisher | null;
  /** Which partition this is; told by the caller with every call, kept for alarms and logs. */
  private id: Identity | null;

  constructor(private readonly deps: PartitionServiceDeps) {
    this.id = loadIdentity(deps.sql);
    this.waiters = new CommitWaiters(deps.timers);
    this.storage = new SqliteLogStorage(deps.sql);
    const stats = new PartitionStats(deps.now, () => this.metrics?.schedule());
    this.partition = new Partition({
      storage: this.storage,
      host: {
        now: deps.now,
        randomEpoch: deps.randomEpoch,
        defer: (fn) => deps.defer(() => this.contained("deferred work", fn)),
        log: (message, error) => this.logError(message, error),
        ...(deps.durable ? { durable: deps.durable } : {}),
      },
      defaults: deps.defaults,
      sockets: deps.sockets,
      alarm: deps.alarm,
      stats,
      onCommit: (meta) => this.waiters.wake(meta.highWatermark),
    });
    this.metrics = deps.metrics
      ? new MetricsPublisher({
          append: deps.metrics,
          timers: deps.timers,
          now: deps.now,
          log: deps.log,
          stats,
          identity: () => this.id,
          gauges: () => this.partition.gauges(),
        })
      : null;
  }

  get identity(): Identity | null {
    return this.id;
  }

  /** Logs with the prefix and the partition's name, so a log line says whose it is. */
  logError(message: string, error?: unknown): void {
    const who = this.id
      ? `${this.id.topic}/${this.id.partition}`
      : "(partition not yet identified)";
    this.deps.log(`${LOG_PREFIX} ${who}: ${message}`, error ?? "");
  }

  /** Runs `fn`, logging (never throwing) what it throws. */
  contained(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logError(`${what} failed`, error);
    }
  }

  /** Takes the topic config and identity the caller sends, storing them when they changed. */
  identify(ref: PartitionRef): void {
    this.partition.log.configure(ref.config);
    if (this.id?.topic === ref.topic && this.id.partition === ref.partition) return;
    this.id = { topic: ref.topic, partition: ref.partition };
    saveIdentity(this.deps.sql, this.id);
  }

  /** A closed Durable Stream takes no more records, from any API (PROTOCOL.md §18.4). */
  refuseIfClosed(): void {
    if (this.streams().closed)
      throw new KaitenError("INVALID_REQUEST", "the stream is closed; it takes no more records");
  }

  /**
   * Nothing of this partition lives only in memory or waits: its log is idle (no batch waiting
   * for its commit or sync), no HTTP reader waits for a commit, no metrics record waits for
   * its timer. Sockets are the host's to count. A host may then close it; the next call opens
   * it again from its database, as a Durable Object restarts after eviction.
   */
  idle(): boolean {
    return this.partition.log.idle && this.waiters.size === 0 && (this.metrics?.idle ?? true);
  }

  /** The host closed this partition's files: nothing runs on them any more (metrics). */
  closed(): void {
    this.metrics?.stop();
  }

  /**
   * Wakes every reader waiting for a commit (long-poll, SSE) as if its wait ran out: it reads
   * the log again and answers what it holds. For a host that is stopping, so a waiting
   * long-poll answers at once (the client polls again) instead of being cut.
   */
  wakeReaders(): void {
    this.waiters.wakeAll("timeout");
  }

  async append(input: AppendInput): Promise<RpcResult<AppendResult>> {
    return this.rpc(input, () => {
      this.refuseIfClosed();
      return this.partition.append(input);
    });
  }

  /**
   * Waits until the log holds records at or past `after`, for at most `ms` (PROTOCOL.md §17).
   * The caller reads after it resolves; the waiter holds no records.
   */
  async waitForCommit(input: WaitInput): Promise<RpcResult<{ outcome: string }>> {
    return this.rpc(input, async () => ({
      outcome: await this.waiters.wait(
        input.after,
        this.partition.log.state.highWatermark,
        input.ms,
      ),
    }));
  }

  /** One Durable Streams operation on this partition's stream (PROTOCOL.md §18). */
  async stream(ref: PartitionRef, op: StreamOp, adopt = false): Promise<RpcResult<StreamAnswer>> {
    return this.rpc(ref, () => this.streams().run(op, adopt));
  }

  async read(input: ReadInput): Promise<RpcResult<ReadResult>> {
    // No offset and no timestamp: from the earliest offset still retained.
    return this.rpc(input, () => this.partition.read(input));
  }

  async info(ref: PartitionRef): Promise<RpcResult<PartitionInfo>> {
    return this.rpc(ref, () => {
      const { epoch } = this.partition.log.state;
      const { highWatermark, earliestOffset, subscribers } = this.partition.gauges();
      return { epoch, earliestOffset, highWatermark, subscribers, ...this.storage.usage };
    });
  }

  /**
   * Deletes the log and the stream row, closes every socket and wakes every waiter: the topic
   * is gone. The host clears its own alarm afterwards. A failure is logged and thrown: the
   * caller must not think the topic deleted.
   */
  async destroy(): Promise<void> {
    try {
      this.streams().wipe();
      this.destroyLog();
    } catch (error) {
      this.logError("destroy failed", error);
      throw error;
    }
  }

  private streams(): StreamStore {
    this.streamStore ??= new StreamStore(this.deps.sql, this.partition.log, this.waiters, () =>
      this.destroyLog(),
    );
    return this.streamStore;
  }

  private destroyLog(): void {
    this.partition.destroy();
    this.waiters.wakeAll();
  }

  private async rpc<T>(ref: PartitionRef, fn: () => T | Promise<T>): Promise<RpcResult<T>> {
    try {
      this.identify(ref);
      return { ok: true, value: await fn() };
    } catch (error) {
      if (!(error instanceof KaitenError)) this.logError("rpc failed", error);
      return { ok: false, error: rpcError(error) };
    }
  }
}

function loadIdentity(sql: SqlDriver): Identity | null {
  sql.exec(
    "CREATE TABLE IF NOT EXISTS identity (id INTEGER PRIMARY KEY CHECK (id = 0), topic TEXT NOT NULL, partition INTEGER NOT NULL)",
  );
  const row = sql.all("SELECT topic, partition FROM identity")[0];
  return row ? { topic: String(row.topic), partition: Number(row.partition) } : null;
}

function saveIdentity(sql: SqlDriver, id: Identity): void {
  sql.run(
    "INSERT INTO identity VALUES (0, ?, ?) ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, partition = excluded.partition",
    id.topic,
    id.partition,
  );
}
