/**
 * One consumer group's coordinator as a service (GroupPort, docs/PROTOCOL.md §16): its state
 * in SQLite (the membership and assignment as one row, one row per committed offset), one
 * alarm for session timeouts, and the group's lag published to `__metrics` while it is
 * active. The Cloudflare GroupObject wraps it (Durable Object SQLite and alarm); a Node host
 * runs it in-process over SQLite and a timer.
 *
 * Requests run one at a time, as the coordinator needs: each runs synchronously from start
 * to end (no await inside), so on a single-threaded host no two interleave. Member sessions
 * (when each was last seen) are kept in memory only: after a restart every member gets a
 * full session timeout again.
 */
import { KaitenError } from "@kaiten/protocol";
import type { Timers } from "../commit-waiters.ts";
import { type AppendMetrics, METRICS_INTERVAL_MS } from "../metrics.ts";
import { type GroupDescription, type GroupPort, type RpcResult, rpcError } from "../port.ts";
import type { SqlDriver } from "../sql.ts";
import type { Log } from "../types.ts";
import {
  GroupCoordinator,
  type GroupSnapshot,
  type JoinRequest,
  type MemberView,
  type PartitionOffset,
  type TopicPartition,
} from "./coordinator.ts";

const LOG_PREFIX = "[kaiten:group]";

/** One partition's lag, as `GET /v1/groups/{g}` and the group's metrics records show it. */
export interface PartitionLag extends TopicPartition {
  committed: number | null;
  highWatermark: number | null;
  lag: number | null;
}

/** Computes a group's lag (reaching each partition's high watermark through the host). */
export type GroupLagOf = (d: GroupDescription) => Promise<{
  offsets: PartitionLag[];
  totalLag: number;
}>;

export interface GroupServiceDeps {
  /** The group's own database (its state and offsets tables). */
  sql: SqlDriver;
  now: () => number;
  /** A new member id (a random UUID). */
  newId: () => string;
  /** The host's one alarm; when it goes off the host calls `fired()`. */
  alarm: { set(at: number): void };
  /** Timers for the metrics publication. */
  timers: Timers;
  /** Where log lines go (console.error); the service prefixes them with the group. */
  log: Log;
  lag: GroupLagOf;
  /** How `__metrics` records are appended; null: the group publishes none. */
  metrics: AppendMetrics | null;
}

export class GroupService implements GroupPort {
  private group: GroupCoordinator;
  private name = "";
  private saved = "";
  private alarmAt: number | null = null;
  private publishing = false;
  private registeredMetrics = false;
  private readonly snapshot: GroupSnapshot | null;

  constructor(private readonly deps: GroupServiceDeps) {
    const { sql } = deps;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 0), name TEXT NOT NULL, snapshot TEXT NOT NULL)",
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY (topic, partition))",
    );
    const row = sql.all("SELECT name, snapshot FROM state")[0];
    this.name = row ? String(row.name) : "";
    this.saved = row ? String(row.snapshot) : "";
    this.snapshot = row ? (JSON.parse(this.saved) as GroupSnapshot) : null;
    const offsets = sql.all("SELECT topic, partition, offset FROM offsets").map((r) => ({
      topic: String(r.topic),
      partition: Number(r.partition),
      offset: Number(r.offset),
    }));
    this.group = new GroupCoordinator(deps.now, deps.newId, this.snapshot, offsets);
  }

  /**
   * Tells the service when the host's alarm is set (null: not set), once, after a start.
   * A restored group with members and no alarm gets one, so their sessions still expire.
   */
  restore(alarmAt: number | null): void {
    this.alarmAt = alarmAt;
    if (this.snapshot && this.snapshot.members.length > 0 && this.alarmAt === null)
      this.schedule(this.deps.now() + 1_000);
  }

  async join(name: string, r: JoinRequest): Promise<RpcResult<MemberView>> {
    return this.run(name, () => this.group.join(r));
  }

  async heartbeat(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
    released: TopicPartition[],
  ): Promise<RpcResult<MemberView>> {
    return this.run(
      name,
      () => this.group.heartbeat(memberId, commits, released, generation),
      commits,
    );
  }

  async commit(
    name: string,
    memberId: string,
    generation: number,
    offsets: PartitionOffset[],
  ): Promise<RpcResult<null>> {
    return this.run(
      name,
      () => {
        this.group.commit(memberId, generation, offsets);
        return null;
      },
      offsets,
    );
  }

  async leave(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
  ): Promise<RpcResult<null>> {
    return this.run(
      name,
      () => {
        if (commits.length > 0)
          this.group.commit(memberId, generation ?? this.group.generation, commits);
        this.group.leave(memberId);
        return null;
      },
      commits,
    );
  }

  async resetOffsets(name: string, offsets: PartitionOffset[]): Promise<RpcResult<null>> {
    return this.run(
      name,
      () => {
        this.group.resetOffsets(offsets);
        return null;
      },
      offsets,
    );
  }

  async describe(name: string): Promise<RpcResult<GroupDescription>> {
    try {
      return { ok: true, value: this.description(name) };
    } catch (error) {
      if (!(error instanceof KaitenError))
        this.deps.log(`${LOG_PREFIX} ${name}: describe failed`, error);
      return { ok: false, error: rpcError(error) };
    }
  }

  /** Deletes the group's state; refused while it has members. */
  async destroy(name: string): Promise<RpcResult<null>> {
    return this.run(name, () => {
      if (this.group.members.size > 0)
        throw new KaitenError(
          "GROUP_NOT_EMPTY",
          `group "${name}" has members; it can be deleted once they leave`,
        );
      this.deps.sql.exec("DELETE FROM offsets");
      this.deps.sql.exec("DELETE FROM state");
      this.group = new GroupCoordinator(this.deps.now, this.deps.newId);
      this.saved = "";
      return null;
    });
  }

  /** The host's alarm went off: expires the sessions that timed out. Never throws. */
  fired(): void {
    this.alarmAt = null;
    try {
      const next = this.group.expire();
      this.persist([]);
      if (next !== null) this.schedule(next);
    } catch (error) {
      this.deps.log(`${LOG_PREFIX} ${this.name}: alarm failed`, error);
    }
  }

  private description(name: string): GroupDescription {
    const partitions = this.group.partitions();
    const members = [...this.group.members.values()].map((m) => ({
      id: m.id,
      instanceId: m.instanceId,
      topics: m.topics,
      partitions: partitions
        .filter((p) => p.member === m.id)
        .map(({ topic, partition }) => ({ topic, partition })),
    }));
    return { name, generation: this.group.generation, members, partitions };
  }

  /** Runs one request; persists what changed (in one transaction) and keeps the expiry alarm set. */
  private async run<T>(
    name: string,
    fn: () => T,
    offsets: PartitionOffset[] = [],
  ): Promise<RpcResult<T>> {
    try {
      this.name = name;
      const value = fn();
      // Lag changes with commits and with membership; a quiet heartbeat publishes nothing.
      if (this.persist(offsets) || offsets.length > 0) this.schedulePublish();
      const next = this.group.expire();
      if (next !== null) this.schedule(next);
      return { ok: true, value };
    } catch (error) {
      if (!(error instanceof KaitenError))
        this.deps.log(`${LOG_PREFIX} ${name}: request failed`, error);
      // A refused request may still have changed state (a heartbeat applied before a refused
      // commit): keep storage in step with memory.
      this.persistQuietly();
      return { ok: false, error: rpcError(error) };
    }
  }

  private persistQuietly(): void {
    try {
      this.persist([]);
    } catch (error) {
      this.deps.log(`${LOG_PREFIX} ${this.name}: saving state failed`, error);
    }
  }

  /** Answers whether the membership or assignment changed. */
  private persist(offsets: PartitionOffset[]): boolean {
    const snapshot = JSON.stringify(this.group.snapshot());
    const { sql } = this.deps;
    sql.transaction(() => {
      for (const o of offsets) {
        const committed = this.group.committed(o.topic, o.partition);
        if (committed === o.offset)
          sql.run(
            "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)",
            o.topic,
            o.partition,
            o.offset,
          );
      }
      if (snapshot !== this.saved)
        sql.run("INSERT OR REPLACE INTO state VALUES (0, ?, ?)", this.name, snapshot);
    });
    const changed = snapshot !== this.saved;
    this.saved = snapshot;
    return changed;
  }

  /**
   * While the group is active, about once a second its lag goes to `__metrics` keyed
   * `group/{name}` (PROTOCOL.md §14), so a dashboard or an alert reads it as a stream.
   */
  private schedulePublish(): void {
    if (this.publishing || this.name === "" || !this.deps.metrics) return;
    this.publishing = true;
    this.deps.timers.set(() => {
      this.publishing = false;
      this.publish().catch((error) =>
        this.deps.log(`${LOG_PREFIX} ${this.name}: metrics failed`, error),
      );
    }, METRICS_INTERVAL_MS);
  }

  private async publish(): Promise<void> {
    const append = this.deps.metrics;
    if (!append) return;
    const d = this.description(this.name);
    const { offsets, totalLag } = await this.deps.lag(d);
    const record = {
      group: this.name,
      at: this.deps.now(),
      generation: d.generation,
      members: d.members.length,
      offsets: offsets.map(({ topic, partition, committed, highWatermark, lag }) => ({
        topic,
        partition,
        committed,
        highWatermark,
        lag,
      })),
      totalLag,
    };
    await append(`group/${this.name}`, record, !this.registeredMetrics);
    this.registeredMetrics = true;
  }

  private schedule(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.deps.alarm.set(at);
  }
}
