/**
 * A consumer group's coordinator (docs/PROTOCOL.md §16): members, the assignment of
 * partitions, generations, and committed offsets. Host-neutral: a host keeps one per group
 * (a Durable Object on Cloudflare), feeds it requests one at a time, persists what
 * `snapshot()` returns after each change, and calls `expire()` when a session may have run out.
 *
 * A partition moves in two steps, so that no record is processed by two members at once:
 * the coordinator marks it for its new owner (`next`), the old owner sees it under `revoke`,
 * stops, commits and releases it; only then does the new owner get it. A member that
 * vanishes releases nothing: its partitions move when its session times out.
 */
import { KaitenError } from "@kaiten/protocol";
import { assignPartitions } from "./assign.ts";

export interface Member {
  id: string;
  /** Static membership: a stable id (a browser tab's, say) that rejoins as the same member. */
  instanceId: string | null;
  topics: string[];
  sessionTimeoutMs: number;
  /** Kept in memory only: after a restart every member gets a full session timeout again. */
  lastSeen: number;
}

export interface Ownership {
  /** The member that holds the partition now, if any. */
  member: string | null;
  /** The member it goes to once `member` releases it. */
  next: string | null;
  /** The group generation at which `member` got it; commits must carry at least this. */
  generation: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  offset: number;
}

export interface GroupSnapshot {
  generation: number;
  members: Array<Omit<Member, "lastSeen">>;
  owners: Array<[string, Ownership]>;
  partitionsOf: Array<[string, number]>;
}

export interface JoinRequest {
  instanceId?: string | null;
  topics: string[];
  sessionTimeoutMs: number;
  /** Partition counts of the member's topics, as the host looked them up. */
  partitionsOf: Record<string, number>;
}

export interface MemberView {
  memberId: string;
  generation: number;
  /** Partitions the member holds, each with the group's committed offset (null: none yet). */
  assignment: Array<PartitionOffset | (TopicPartition & { offset: null })>;
  /** Partitions the member must stop, commit and release. */
  revoke: TopicPartition[];
  heartbeatIntervalMs: number;
}

/** Bounds on what one group holds. */
export const GroupLimits = {
  maxMembers: 1_000,
  maxTopicsPerMember: 16,
  minSessionTimeoutMs: 1_000,
  maxSessionTimeoutMs: 300_000,
  defaultSessionTimeoutMs: 10_000,
} as const;

const key = (topic: string, partition: number) => `${topic}/${partition}`;
const parse = (k: string): TopicPartition => {
  const slash = k.lastIndexOf("/");
  return { topic: k.slice(0, slash), partition: Number(k.slice(slash + 1)) };
};

export class GroupCoordinator {
  generation = 0;
  readonly members = new Map<string, Member>();
  readonly owners = new Map<string, Ownership>();
  readonly offsets = new Map<string, number>();
  readonly partitionsOf = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    private readonly newId: () => string,
    snapshot?: GroupSnapshot | null,
    offsets?: Iterable<PartitionOffset>,
  ) {
    if (snapshot) this.restore(snapshot);
    for (const o of offsets ?? []) this.offsets.set(key(o.topic, o.partition), o.offset);
  }

  private restore(s: GroupSnapshot): void {
    this.generation = s.generation;
    const seen = this.now();
    for (const m of s.members) this.members.set(m.id, { ...m, lastSeen: seen });
    for (const [k, o] of s.owners) this.owners.set(k, o);
    for (const [t, n] of s.partitionsOf) this.partitionsOf.set(t, n);
  }

  snapshot(): GroupSnapshot {
    return {
      generation: this.generation,
      members: [...this.members.values()].map(({ lastSeen: _, ...m }) => m),
      owners: [...this.owners],
      partitionsOf: [...this.partitionsOf],
    };
  }

  join(r: JoinRequest): MemberView {
    for (const [t, n] of Object.entries(r.partitionsOf)) this.partitionsOf.set(t, n);
    const replaced = r.instanceId ? this.byInstance(r.instanceId) : null;
    if (!replaced && this.members.size >= GroupLimits.maxMembers)
      throw new KaitenError(
        "LIMIT_EXCEEDED",
        `a group has at most ${GroupLimits.maxMembers} members`,
      );
    const member: Member = {
      id: this.newId(),
      instanceId: r.instanceId ?? null,
      topics: [...new Set(r.topics)],
      sessionTimeoutMs: r.sessionTimeoutMs,
      lastSeen: this.now(),
    };
    this.members.set(member.id, member);
    if (replaced && sameTopics(replaced.topics, member.topics)) {
      // A static member back within its session: same partitions, no rebalance; the old id
      // is fenced from now on.
      this.members.delete(replaced.id);
      for (const o of this.owners.values()) {
        if (o.member === replaced.id) o.member = member.id;
        if (o.next === replaced.id) o.next = member.id;
      }
    } else {
      if (replaced) this.remove(replaced.id);
      this.rebalance();
    }
    return this.view(member.id);
  }

  /** A heartbeat: keeps the session, applies commits and releases, answers the member's view. */
  heartbeat(
    memberId: string,
    commits: PartitionOffset[] = [],
    released: TopicPartition[] = [],
    generation = this.generation,
  ): MemberView {
    const m = this.member(memberId);
    m.lastSeen = this.now();
    this.commit(memberId, generation, commits);
    this.release(memberId, released);
    return this.view(memberId);
  }

  /** Commits offsets (the next offset to read) of partitions the member holds (§16.4). */
  commit(memberId: string, generation: number, offsets: PartitionOffset[]): void {
    this.member(memberId);
    for (const o of offsets) {
      const owner = this.owners.get(key(o.topic, o.partition));
      if (owner?.member !== memberId || generation < owner.generation)
        throw new KaitenError(
          "FENCED",
          `${o.topic}/${o.partition} is not this member's in generation ${generation}; rejoin or take the current assignment`,
        );
      if (!Number.isSafeInteger(o.offset) || o.offset < 0)
        throw new KaitenError("INVALID_OFFSET", "an offset is a non-negative integer");
    }
    for (const o of offsets) this.offsets.set(key(o.topic, o.partition), o.offset);
  }

  /** The member gives up partitions it was asked to revoke; they go to their next owners. */
  release(memberId: string, partitions: TopicPartition[]): void {
    let moved = false;
    for (const tp of partitions) {
      const o = this.owners.get(key(tp.topic, tp.partition));
      if (o?.member !== memberId || o.next === null) continue;
      o.member = null;
      moved = true;
    }
    if (moved) this.rebalance();
  }

  leave(memberId: string): void {
    if (!this.members.has(memberId)) return;
    this.remove(memberId);
    this.rebalance();
  }

  /** Removes members whose session ran out; answers when the next one would. */
  expire(): number | null {
    const now = this.now();
    let changed = false;
    let next: number | null = null;
    for (const m of [...this.members.values()]) {
      const end = m.lastSeen + m.sessionTimeoutMs;
      if (end <= now) {
        this.remove(m.id);
        changed = true;
      } else next = next === null ? end : Math.min(next, end);
    }
    if (changed) this.rebalance();
    return next;
  }

  /** Sets committed offsets while the group has no members (as Kafka requires). */
  resetOffsets(offsets: PartitionOffset[]): void {
    if (this.members.size > 0)
      throw new KaitenError(
        "GROUP_NOT_EMPTY",
        "offsets can be reset only while the group has no members",
      );
    for (const o of offsets) this.offsets.set(key(o.topic, o.partition), o.offset);
  }

  committed(topic: string, partition: number): number | null {
    return this.offsets.get(key(topic, partition)) ?? null;
  }

  /** Every partition the group knows of, with its holder and committed offset. */
  partitions(): Array<TopicPartition & { member: string | null; committed: number | null }> {
    const out = [];
    for (const [topic, n] of [...this.partitionsOf].sort()) {
      for (let partition = 0; partition < n; partition++) {
        const member = this.owners.get(key(topic, partition))?.member ?? null;
        out.push({ topic, partition, member, committed: this.committed(topic, partition) });
      }
    }
    return out;
  }

  view(memberId: string): MemberView {
    const m = this.member(memberId);
    const assignment: MemberView["assignment"] = [];
    const revoke: TopicPartition[] = [];
    for (const [k, o] of this.owners) {
      if (o.member !== memberId) continue;
      const tp = parse(k);
      assignment.push({ ...tp, offset: this.committed(tp.topic, tp.partition) });
      if (o.next !== null) revoke.push(tp);
    }
    assignment.sort(byTopicPartition);
    revoke.sort(byTopicPartition);
    const heartbeatIntervalMs = Math.max(250, Math.min(3_000, Math.floor(m.sessionTimeoutMs / 3)));
    return { memberId, generation: this.generation, assignment, revoke, heartbeatIntervalMs };
  }

  private member(id: string): Member {
    const m = this.members.get(id);
    if (!m)
      throw new KaitenError(
        "UNKNOWN_MEMBER",
        "no such member (it left, timed out, or was replaced); join again",
      );
    return m;
  }

  private byInstance(instanceId: string): Member | null {
    for (const m of this.members.values()) if (m.instanceId === instanceId) return m;
    return null;
  }

  /** A member that is gone releases nothing: what it held is free at once. */
  private remove(id: string): void {
    this.members.delete(id);
    for (const o of this.owners.values()) {
      if (o.member === id) o.member = null;
      if (o.next === id) o.next = null;
    }
  }

  /**
   * Recomputes the target of every topic's partitions and moves toward it: a free partition
   * goes to its target at once (a new generation); a held one is marked for its target and
   * waits for its holder to release it.
   */
  private rebalance(): void {
    let changed = false;
    for (const [topic, n] of this.partitionsOf) {
      const members = [...this.members.values()]
        .filter((m) => m.topics.includes(topic))
        .map((m) => m.id);
      const current = new Map<number, string>();
      for (let p = 0; p < n; p++) {
        const holder = this.owners.get(key(topic, p))?.member;
        if (holder) current.set(p, holder);
      }
      const target = assignPartitions(n, members, current);
      for (let p = 0; p < n; p++)
        changed = this.moveToward(key(topic, p), target.get(p) ?? null) || changed;
    }
    if (changed) this.generation++;
    for (const o of this.owners.values())
      if (o.member !== null && o.generation === -1) o.generation = this.generation;
  }

  /** Answers whether a partition changed hands now. */
  private moveToward(k: string, target: string | null): boolean {
    const o = this.owners.get(k) ?? { member: null, next: null, generation: 0 };
    this.owners.set(k, o);
    if (o.member === target) {
      o.next = null;
      return false;
    }
    if (o.member === null) {
      o.member = target;
      o.next = null;
      o.generation = -1; // set to the new generation by rebalance()
      return target !== null;
    }
    // Held by another member: it waits for its holder to release it. A null target cannot
    // happen here (a holder is a member subscribed to the topic, so it is in the target).
    o.next = target;
    return false;
  }
}

function sameTopics(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join("\n") === [...b].sort().join("\n");
}

function byTopicPartition(a: TopicPartition, b: TopicPartition): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;
}
