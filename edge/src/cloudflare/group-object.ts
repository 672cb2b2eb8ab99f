/**
 * One Durable Object per consumer group (docs/PROTOCOL.md §16): a thin adapter over the
 * core's GroupService (the coordinator, its state in the object's SQLite, session timeouts,
 * the group's lag in `__metrics`), with the Durable Object alarm as its one timer.
 */
import { DurableObject } from "cloudflare:workers";
import type {
  JoinRequest,
  MemberView,
  PartitionOffset,
  TopicPartition,
} from "../core/groups/coordinator.ts";
import { GroupService } from "../core/groups/service.ts";
import type { GroupDescription, GroupPort, RpcResult } from "../core/port.ts";
import { durableObjectSql } from "./do-sql-driver.ts";
import type { Env } from "./env.ts";
import { cloudflareMetrics } from "./metrics.ts";
import { groupLag, workerTimers } from "./port.ts";

export class GroupObject extends DurableObject<Env> implements GroupPort {
  private readonly service: GroupService;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.service = new GroupService({
      sql: durableObjectSql(ctx.storage),
      now: () => Date.now(),
      newId: () => crypto.randomUUID(),
      alarm: { set: (at) => void ctx.storage.setAlarm(at) },
      timers: workerTimers,
      log: console.error,
      lag: (d) => groupLag(env, d),
      metrics: cloudflareMetrics(env),
    });
    ctx.blockConcurrencyWhile(async () => this.service.restore(await ctx.storage.getAlarm()));
  }

  async join(name: string, r: JoinRequest): Promise<RpcResult<MemberView>> {
    return this.service.join(name, r);
  }

  async heartbeat(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
    released: TopicPartition[],
  ): Promise<RpcResult<MemberView>> {
    return this.service.heartbeat(name, memberId, generation, commits, released);
  }

  async commit(
    name: string,
    memberId: string,
    generation: number,
    offsets: PartitionOffset[],
  ): Promise<RpcResult<null>> {
    return this.service.commit(name, memberId, generation, offsets);
  }

  async leave(
    name: string,
    memberId: string,
    generation: number | undefined,
    commits: PartitionOffset[],
  ): Promise<RpcResult<null>> {
    return this.service.leave(name, memberId, generation, commits);
  }

  async resetOffsets(name: string, offsets: PartitionOffset[]): Promise<RpcResult<null>> {
    return this.service.resetOffsets(name, offsets);
  }

  async describe(name: string): Promise<RpcResult<GroupDescription>> {
    return this.service.describe(name);
  }

  /** Deletes the group's state; refused while it has members. */
  async destroy(name: string): Promise<RpcResult<null>> {
    return this.service.destroy(name);
  }

  override async alarm(): Promise<void> {
    this.service.fired();
  }
}
