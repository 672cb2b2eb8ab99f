/**
 * The consumer group coordinator (docs/PROTOCOL.md §16) as pure logic: balanced and sticky
 * assignment, two-step moves (revoke, then release, then the new owner), session timeouts,
 * static membership and fencing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assignPartitions } from "../src/core/groups/assign.ts";
import { GroupCoordinator } from "../src/core/groups/coordinator.ts";

describe("§16.2 assignment", () => {
  it("is balanced and keeps what it can, for any partitions, members and current owners", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 }),
        fc.uniqueArray(fc.constantFrom("a", "b", "c", "d", "e", "f"), { maxLength: 6 }),
        fc.array(fc.constantFrom("a", "b", "c", "d", "e", "f", "gone"), { maxLength: 40 }),
        (partitions, members, owners) => {
          const current = new Map<number, string>();
          for (const [p, m] of owners.slice(0, partitions).entries()) current.set(p, m);
          const target = assignPartitions(partitions, members, current);
          if (members.length === 0) {
            expect(target.size).toBe(0);
            return;
          }
          expect(target.size).toBe(partitions);
          const counts = members.map((m) => [...target.values()].filter((x) => x === m).length);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          // Sticky: a member keeps min(what it held, its share) of its own partitions.
          for (const m of members) {
            const held = [...current].filter(([, x]) => x === m).length;
            const kept = [...current].filter(([p, x]) => x === m && target.get(p) === m).length;
            expect(kept).toBe(Math.min(held, [...target.values()].filter((x) => x === m).length));
          }
        },
      ),
    );
  });
});

function group() {
  let t = 0;
  let n = 0;
  const clock = { advance: (ms: number) => (t += ms) };
  const g = new GroupCoordinator(
    () => t,
    () => `m${++n}`,
  );
  const join = (instanceId: string | null = null) =>
    g.join({ topics: ["t"], sessionTimeoutMs: 10_000, partitionsOf: { t: 4 }, instanceId });
  return { g, clock, join };
}

const parts = (v: { assignment: Array<{ partition: number }> }) =>
  v.assignment.map((a) => a.partition);

describe("§16.3 rebalancing", () => {
  it("gives one member everything, then moves half to a second only after the first releases", () => {
    const { g, join } = group();
    const a = join();
    expect(parts(a)).toEqual([0, 1, 2, 3]);
    const b = join();
    expect(parts(b)).toEqual([]);
    const aView = g.heartbeat(a.memberId);
    expect(aView.revoke.map((r) => r.partition)).toHaveLength(2);
    // Until a releases, b holds nothing: no partition has two owners.
    expect(parts(g.heartbeat(b.memberId))).toEqual([]);
    g.heartbeat(
      a.memberId,
      [{ topic: "t", partition: aView.revoke[0]?.partition ?? -1, offset: 7 }],
      aView.revoke,
    );
    const bView = g.heartbeat(b.memberId);
    expect(parts(bView).sort()).toEqual(aView.revoke.map((r) => r.partition).sort());
    expect(bView.assignment.find((x) => x.partition === aView.revoke[0]?.partition)?.offset).toBe(
      7,
    );
    expect(parts(g.heartbeat(a.memberId))).toHaveLength(2);
  });

  it("frees a vanished member's partitions when its session times out", () => {
    const { g, clock, join } = group();
    const a = join();
    const b = join();
    g.heartbeat(a.memberId, [], g.heartbeat(a.memberId).revoke);
    expect(parts(g.heartbeat(b.memberId))).toHaveLength(2);
    clock.advance(6_000);
    g.heartbeat(a.memberId);
    clock.advance(6_000);
    expect(g.expire()).not.toBeNull();
    expect(() => g.heartbeat(b.memberId)).toThrow(
      expect.objectContaining({ code: "UNKNOWN_MEMBER" }),
    );
    expect(parts(g.heartbeat(a.memberId))).toEqual([0, 1, 2, 3]);
  });

  it("lets a static member rejoin with the same partitions and no rebalance, fencing the old id", () => {
    const { g, join } = group();
    const a = join("tab-1");
    const b = join("tab-2");
    g.heartbeat(a.memberId, [], g.heartbeat(a.memberId).revoke);
    const bParts = parts(g.heartbeat(b.memberId));
    const generation = g.generation;
    const again = join("tab-2");
    expect(parts(again)).toEqual(bParts);
    expect(g.generation).toBe(generation);
    expect(() => g.commit(b.memberId, generation, [])).toThrow(
      expect.objectContaining({ code: "UNKNOWN_MEMBER" }),
    );
  });

  it("refuses a commit for a partition the member no longer holds, or from an older generation", () => {
    const { g, join } = group();
    const a = join();
    const b = join();
    const revoke = g.heartbeat(a.memberId).revoke;
    g.heartbeat(a.memberId, [], revoke);
    const moved = revoke[0] as { topic: string; partition: number };
    expect(() => g.commit(a.memberId, g.generation, [{ ...moved, offset: 1 }])).toThrow(
      expect.objectContaining({ code: "FENCED" }),
    );
    expect(() => g.commit(b.memberId, a.generation, [{ ...moved, offset: 1 }])).toThrow(
      expect.objectContaining({ code: "FENCED" }),
    );
    g.commit(b.memberId, g.generation, [{ ...moved, offset: 1 }]);
    expect(g.committed(moved.topic, moved.partition)).toBe(1);
  });

  it("resets offsets only without members, and survives a snapshot", () => {
    const { g, join } = group();
    const a = join();
    expect(() => g.resetOffsets([{ topic: "t", partition: 0, offset: 0 }])).toThrow(
      expect.objectContaining({ code: "GROUP_NOT_EMPTY" }),
    );
    g.commit(a.memberId, g.generation, [{ topic: "t", partition: 1, offset: 5 }]);
    const copy = new GroupCoordinator(
      () => 0,
      () => "x",
      g.snapshot(),
      [{ topic: "t", partition: 1, offset: 5 }],
    );
    expect(parts(copy.view(a.memberId))).toEqual([0, 1, 2, 3]);
    g.leave(a.memberId);
    g.resetOffsets([{ topic: "t", partition: 1, offset: 0 }]);
    expect(g.committed("t", 1)).toBe(0);
  });
});
