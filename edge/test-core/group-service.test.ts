/**
 * The core's GroupService (GroupPort, docs/PROTOCOL.md §16) in plain Node over better-sqlite3:
 * state that survives a restart, session timeouts through the one injected alarm, the
 * group's lag published to `__metrics` (§14), and errors answered as data and logged with
 * the group's name.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { GroupService, type GroupServiceDeps } from "../src/core/groups/service.ts";
import { openSqlite } from "../src/node/sqlite.ts";
import { logSink, ManualTimers, settle } from "./fakes.ts";

const dir = mkdtempSync(join(tmpdir(), "kaiten-group-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const joinRequest = { topics: ["t"], sessionTimeoutMs: 10_000, partitionsOf: { t: 2 } };

function harness(path = ":memory:", overrides: Partial<GroupServiceDeps> = {}) {
  const clock = { now: 1_000 };
  const alarms: number[] = [];
  const appended: Array<{ key: string; record: unknown; ensure: boolean }> = [];
  const timers = new ManualTimers();
  const sink = logSink();
  let ids = 0;
  const deps: GroupServiceDeps = {
    sql: openSqlite(path),
    now: () => clock.now,
    newId: () => `m${++ids}`,
    alarm: { set: (at) => alarms.push(at) },
    timers,
    log: sink.log,
    lag: async (d) => ({
      offsets: d.partitions.map((p) => ({ ...p, highWatermark: 10, lag: 10 - (p.committed ?? 0) })),
      totalLag: d.partitions.reduce((s, p) => s + 10 - (p.committed ?? 0), 0),
    }),
    metrics: async (key, record, ensure) => void appended.push({ key, record, ensure }),
    ...overrides,
  };
  return { service: new GroupService(deps), clock, alarms, appended, timers, sink };
}

describe("group service", () => {
  it("assigns a joining member every partition and sets the alarm for its session", async () => {
    const { service, alarms } = harness();
    const r = await service.join("g", joinRequest);
    expect(r).toMatchObject({ ok: true, value: { memberId: "m1", generation: 1 } });
    if (r.ok) expect(r.value.assignment).toHaveLength(2);
    expect(alarms).toEqual([11_000]);
  });

  it("keeps membership and committed offsets across a restart, and re-arms the alarm", async () => {
    const path = join(dir, "restart.sqlite");
    const first = harness(path);
    await first.service.join("g", joinRequest);
    expect(
      await first.service.commit("g", "m1", 1, [{ topic: "t", partition: 1, offset: 4 }]),
    ).toEqual({
      ok: true,
      value: null,
    });
    const second = harness(path);
    second.service.restore(null);
    expect(second.alarms).toEqual([2_000]);
    const d = await second.service.describe("g");
    expect(d).toMatchObject({ ok: true, value: { generation: 1, members: [{ id: "m1" }] } });
    if (d.ok) expect(d.value.partitions.find((p) => p.partition === 1)?.committed).toBe(4);
  });

  it("expires a member whose session ran out when the alarm fires", async () => {
    const { service, clock } = harness();
    await service.join("g", joinRequest);
    clock.now += 10_000;
    service.fired();
    expect(await service.describe("g")).toMatchObject({ ok: true, value: { members: [] } });
  });

  it("answers a fenced commit as data and logs nothing for it", async () => {
    const { service, sink } = harness();
    await service.join("g", joinRequest);
    const r = await service.commit("g", "m1", 0, [{ topic: "t", partition: 0, offset: 1 }]);
    expect(r).toMatchObject({ ok: false, error: { code: "FENCED" } });
    expect(sink.lines).toEqual([]);
  });

  it("refuses to delete a group with members, and deletes an empty one", async () => {
    const { service } = harness();
    await service.join("g", joinRequest);
    expect(await service.destroy("g")).toMatchObject({
      ok: false,
      error: { code: "GROUP_NOT_EMPTY" },
    });
    await service.leave("g", "m1", 1, []);
    expect(await service.destroy("g")).toEqual({ ok: true, value: null });
    expect(await service.describe("g")).toMatchObject({ ok: true, value: { generation: 0 } });
  });

  it("publishes the group's lag to __metrics once a second while active", async () => {
    const { service, timers, appended } = harness();
    await service.join("g", joinRequest);
    await service.commit("g", "m1", 1, [{ topic: "t", partition: 0, offset: 3 }]);
    expect(timers.pending.size).toBe(1);
    timers.fire();
    await settle();
    expect(appended).toEqual([
      {
        key: "group/g",
        ensure: true,
        record: expect.objectContaining({ group: "g", members: 1, totalLag: 17 }),
      },
    ]);
  });

  it("logs a failed publication naming the group", async () => {
    const { service, timers, sink } = harness(":memory:", {
      lag: async () => {
        throw new Error("no partition");
      },
    });
    await service.join("g", joinRequest);
    timers.fire();
    await settle();
    expect(sink.lines).toEqual([
      { line: "[kaiten:group] g: metrics failed", error: new Error("no partition") },
    ]);
  });
});
