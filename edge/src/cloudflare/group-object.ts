/**
 * One Durable Object per consumer group (docs/PROTOCOL.md §16): the group's coordinator,
 * its state in SQLite (the membership and assignment as one row, one row per committed
 * offset), and an alarm for session timeouts. Requests run one at a time, as the
 * coordinator needs. Member sessions (when each was last seen) are kept in memory only:
 * after a restart every member gets a full session timeout again.
 */
import { DurableObject } from "cloudflare:workers";
import { KaitenError } from "@kaiten/protocol";
import {
  GroupCoordinator,
  type GroupSnapshot,
  type JoinRequest,
  type MemberView,
  type PartitionOffset,
  type TopicPartition,
} from "../core/groups/coordinator.ts";
import type { Env } from "./env.ts";
import { appendMetrics, METRICS_INTERVAL_MS } from "./metrics.ts";
import { type RpcResult, rpcError } from "./partition-object.ts";
import { groupLag } from "./port.ts";

const LOG_PREFIX = "[kaiten:group]";

export interface GroupDescription {
  name: string;
  generation: number;
  members: Array<{
    id: string;
    instanceId: string | null;
    topics: string[];
    partitions: TopicPartition[];
  }>;
  partitions: Array<TopicPartition & { member: string | null; committed: number | null }>;
}

export class GroupObject extends DurableObject<Env> {
  private group!: GroupCoordinator;
  private name = "";
  private saved = "";
  private alarmAt: number | null = null;
  private publishing = false;
  private registeredMetrics = false;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 0), name TEXT NOT NULL, snapshot TEXT NOT NULL)",
    );
    sql.exec(
      "CREATE TABLE IF NOT EXISTS offsets (topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL, PRIMARY KEY (topic, partition))",
    );
    const row = sql.exec("SELECT name, snapshot FROM state").toArray()[0];
    this.name = row ? String(row.name) : "";
    this.saved = row ? String(row.snapshot) : "";
    const snapshot = row ? (JSON.parse(this.saved) as GroupSnapshot) : null;
    const offsets = sql
      .exec("SELECT topic, partition, offset FROM offsets")
      .toArray()
      .map((r) => ({
        topic: String(r.topic),
        partition: Number(r.partition),
        offset: Number(r.offset),
      }));
    this.group = new GroupCoordinator(
      () => Date.now(),
      () => crypto.randomUUID(),
      snapshot,
      offsets,
    );
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      if (snapshot && snapshot.members.length > 0 && this.alarmAt === null)
        this.schedule(Date.now() + 1_000);
    });
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
      return { ok: false, error: rpcError(error) };
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

  /** Deletes the group's state; refused while it has members. */
  async destroy(name: string): Promise<RpcResult<null>> {
    return this.run(name, () => {
      if (this.group.members.size > 0)
        throw new KaitenError(
          "GROUP_NOT_EMPTY",
          `group "${name}" has members; it can be deleted once they leave`,
        );
      this.ctx.storage.sql.exec("DELETE FROM offsets");
      this.ctx.storage.sql.exec("DELETE FROM state");
      this.group = new GroupCoordinator(
        () => Date.now(),
        () => crypto.randomUUID(),
      );
      this.saved = "";
      return null;
    });
  }

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    try {
      const next = this.group.expire();
      this.persist([]);
      if (next !== null) this.schedule(next);
    } catch (error) {
      console.error(`${LOG_PREFIX} ${this.name}: alarm failed`, error);
    }
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
        console.error(`${LOG_PREFIX} ${name}: request failed`, error);
      // A refused request may still have changed state (a heartbeat applied before a refused
      // commit): keep storage in step with memory.
      this.persist([]);
      return { ok: false, error: rpcError(error) };
    }
  }

  /** Answers whether the membership or assignment changed. */
  private persist(offsets: PartitionOffset[]): boolean {
    const snapshot = JSON.stringify(this.group.snapshot());
    const sql = this.ctx.storage.sql;
    this.ctx.storage.transactionSync(() => {
      for (const o of offsets) {
        const committed = this.group.committed(o.topic, o.partition);
        if (committed === o.offset)
          sql.exec(
            "INSERT OR REPLACE INTO offsets VALUES (?, ?, ?)",
            o.topic,
            o.partition,
            o.offset,
          );
      }
      if (snapshot !== this.saved)
        sql.exec("INSERT OR REPLACE INTO state VALUES (0, ?, ?)", this.name, snapshot);
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
    if (this.publishing || this.name === "") return;
    this.publishing = true;
    setTimeout(() => {
      this.publishing = false;
      this.publish().catch((error) =>
        console.error(`${LOG_PREFIX} ${this.name}: metrics failed`, error),
      );
    }, METRICS_INTERVAL_MS);
  }

  private async publish(): Promise<void> {
    const d = this.description(this.name);
    const { offsets, totalLag } = await groupLag(this.env, d);
    const record = {
      group: this.name,
      at: Date.now(),
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
    await appendMetrics(this.env, `group/${this.name}`, record, !this.registeredMetrics);
    this.registeredMetrics = true;
  }

  private schedule(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.ctx.storage.setAlarm(at);
  }
}
