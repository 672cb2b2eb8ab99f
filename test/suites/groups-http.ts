/**
 * Consumer groups over HTTP (docs/PROTOCOL.md §16): members share a topic's partitions,
 * balanced; a partition moves only after its old owner commits and releases it; a vanished
 * member's partitions move after its session timeout; static members rejoin without a
 * rebalance; stale commits are fenced; offsets are reset only while the group is empty.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { call, type ErrorBody, postJson, readPartition } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys = await testKeys();

export function groupsHttpSuite(host: HostUnderTest): void {
  describe(`consumer groups over HTTP on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys)));
    const url = () => broker().url;
    let member: Record<string, string>;
    let admin: Record<string, string>;

    interface View {
      memberId: string;
      generation: number;
      assignment: Array<{ topic: string; partition: number; offset: number | null }>;
      revoke: Array<{ topic: string; partition: number }>;
    }
    interface Fetched extends View {
      records: Array<{ topic: string; partition: number; offset: number; value: unknown }>;
      positions: Array<{ topic: string; partition: number; offset: number }>;
    }

    beforeAll(async () => {
      admin = bearer(await mint({ scope: "admin" }));
      member = bearer(
        await mint({ scope: "group:workers group:static group:durable subscribe:events" }),
      );
      expect(
        (await postJson(`${url()}/v1/topics`, { name: "events", partitions: 4 }, admin)).status,
      ).toBe(201);
      await produce(40);
    });

    let produced = 0;
    async function produce(n: number) {
      const records = Array.from({ length: n }, () => ({ key: `k${produced}`, value: produced++ }));
      expect((await postJson(`${url()}/v1/topics/events/records`, { records }, admin)).status).toBe(
        200,
      );
    }

    const g = (group: string, rest = "") => `${url()}/v1/groups/${group}${rest}`;
    const join = async (group: string, extra: Record<string, unknown> = {}) =>
      (await postJson<View>(g(group, "/members"), { topics: ["events"], ...extra }, member)).body;
    const heartbeat = async (group: string, id: string, body: Record<string, unknown> = {}) =>
      postJson<View & ErrorBody>(g(group, `/members/${id}/heartbeat`), body, member);
    const fetchAs = async (group: string, id: string, body: Record<string, unknown> = {}) =>
      (
        await postJson<Fetched>(
          g(group, `/members/${id}/fetch`),
          { maxRecords: 1000, ...body },
          member,
        )
      ).body;
    const parts = (v: View) => v.assignment.map((a) => a.partition);

    describe("§16 consumer groups over HTTP", () => {
      const seen: number[] = [];
      let a: View;
      let b: View;

      it("gives the first member every partition, from the start when nothing is committed", async () => {
        a = await join("workers", { sessionTimeoutMs: 60_000 });
        expect(parts(a)).toEqual([0, 1, 2, 3]);
        const f = await fetchAs("workers", a.memberId);
        seen.push(...f.records.map((r) => r.value as number));
        expect(seen.sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
        const commit = await postJson(
          g("workers", `/members/${a.memberId}/commit`),
          { generation: f.generation, offsets: f.positions },
          member,
        );
        expect(commit.status).toBe(200);
      });

      it("moves half to a second member only after the first commits and releases them", async () => {
        b = await join("workers", { sessionTimeoutMs: 2_000 });
        expect(parts(b)).toEqual([]);
        const revoke = (await heartbeat("workers", a.memberId)).body.revoke;
        expect(revoke).toHaveLength(2);
        expect(parts((await heartbeat("workers", b.memberId)).body)).toEqual([]);
        await heartbeat("workers", a.memberId, { released: revoke });
        const bView = (await heartbeat("workers", b.memberId)).body;
        expect(parts(bView).sort()).toEqual(revoke.map((r) => r.partition).sort());
        expect(bView.assignment.every((x) => x.offset !== null)).toBe(true);
        const described = await call<{ members: Array<{ partitions: unknown[] }> }>(g("workers"), {
          headers: member,
        });
        expect(described.body.members.map((m) => m.partitions.length).sort()).toEqual([2, 2]);
      });

      it("delivers new records once across the two members, from the committed offsets", async () => {
        await produce(20);
        const fa = await fetchAs("workers", a.memberId);
        const fb = await fetchAs("workers", b.memberId);
        const got = [...fa.records, ...fb.records]
          .map((r) => r.value as number)
          .sort((x, y) => x - y);
        expect(got).toEqual(Array.from({ length: 20 }, (_, i) => 40 + i));
        for (const [m, f] of [
          [a, fa],
          [b, fb],
        ] as const)
          await postJson(
            g("workers", `/members/${m.memberId}/commit`),
            { generation: f.generation, offsets: f.positions },
            member,
          );
      });

      it("fences a commit for a partition the member does not hold", async () => {
        const notMine = parts(b)[0] ?? parts((await heartbeat("workers", b.memberId)).body)[0];
        const r = await postJson<ErrorBody>(
          g("workers", `/members/${a.memberId}/commit`),
          { generation: 999, offsets: [{ topic: "events", partition: notMine, offset: 0 }] },
          member,
        );
        expect([r.status, r.body.error.code]).toEqual([409, "FENCED"]);
      });

      it("moves a vanished member's partitions when its session times out, and refuses it after", async () => {
        const deadline = Date.now() + 15_000;
        let view = (await heartbeat("workers", a.memberId)).body;
        while (parts(view).length < 4 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 500));
          view = (await heartbeat("workers", a.memberId)).body;
        }
        expect(parts(view)).toEqual([0, 1, 2, 3]);
        const stale = await heartbeat("workers", b.memberId);
        expect([stale.status, stale.body.error.code]).toEqual([409, "UNKNOWN_MEMBER"]);
      });

      it("refuses a reset while the group has members, then resets to earliest once it is empty", async () => {
        const busy = await postJson<ErrorBody>(
          g("workers", "/offsets"),
          { topic: "events", to: "earliest" },
          admin,
        );
        expect([busy.status, busy.body.error.code]).toEqual([409, "GROUP_NOT_EMPTY"]);
        expect(
          (
            await call(g("workers", `/members/${a.memberId}`), {
              method: "DELETE",
              headers: member,
            })
          ).status,
        ).toBe(200);
        const lagBefore = await call<{ totalLag: number; state: string }>(g("workers"), {
          headers: member,
        });
        expect(lagBefore.body).toMatchObject({ state: "empty", totalLag: 0 });
        expect(
          (await postJson(g("workers", "/offsets"), { topic: "events", to: "earliest" }, admin))
            .status,
        ).toBe(200);
        const lagAfter = await call<{ totalLag: number }>(g("workers"), { headers: member });
        expect(lagAfter.body.totalLag).toBe(60);
        const again = await join("workers");
        expect((await fetchAs("workers", again.memberId)).records).toHaveLength(60);
        await call(g("workers", `/members/${again.memberId}`), {
          method: "DELETE",
          headers: member,
        });
      });

      it("lets a static member rejoin with the same partitions and no new generation", async () => {
        const first = await join("static", { instanceId: "tab-1" });
        const second = await join("static", { instanceId: "tab-2" });
        await heartbeat("static", first.memberId, {
          released: (await heartbeat("static", first.memberId)).body.revoke,
        });
        const mine = parts((await heartbeat("static", second.memberId)).body);
        const generation = (await heartbeat("static", second.memberId)).body.generation;
        const back = await join("static", { instanceId: "tab-2" });
        expect(parts(back)).toEqual(mine);
        expect(back.generation).toBe(generation);
        const old = await heartbeat("static", second.memberId);
        expect(old.body.error.code).toBe("UNKNOWN_MEMBER");
      });

      it("lists groups, and deletes one only when empty, as admin", async () => {
        const list = await call<{ groups: string[] }>(`${url()}/v1/groups`, { headers: member });
        expect(list.body.groups).toEqual(["static", "workers"]);
        const busy = await call<ErrorBody>(g("static"), { method: "DELETE", headers: admin });
        expect(busy.body.error.code).toBe("GROUP_NOT_EMPTY");
        expect((await call(g("workers"), { method: "DELETE", headers: admin })).status).toBe(200);
        expect((await call(g("workers"), { headers: member })).status).toBe(404);
      });

      it("needs the group right, and subscribe on the topic to join", async () => {
        const noGroup = bearer(await mint({ scope: "subscribe:events" }));
        const r1 = await postJson<ErrorBody>(
          g("workers", "/members"),
          { topics: ["events"] },
          noGroup,
        );
        expect([r1.status, r1.body.error.code]).toEqual([403, "FORBIDDEN"]);
        const noTopic = bearer(await mint({ scope: "group:workers" }));
        const r2 = await postJson<ErrorBody>(
          g("workers", "/members"),
          { topics: ["events"] },
          noTopic,
        );
        expect([r2.status, r2.body.error.code]).toEqual([403, "FORBIDDEN"]);
        const other = await call<{ groups: string[] }>(`${url()}/v1/groups`, { headers: noTopic });
        expect(other.body.groups).toEqual([]);
      });
    });

    describe("§16 committed offsets and restarts", () => {
      it("keeps committed offsets and members across a kill -9 of the broker", async () => {
        const b = broker();
        await produce(5);
        const m = await join("durable", { sessionTimeoutMs: 60_000 });
        const f = await fetchAs("durable", m.memberId);
        const commit = await postJson(
          g("durable", `/members/${m.memberId}/commit`),
          { generation: f.generation, offsets: f.positions },
          member,
        );
        expect(commit.status).toBe(200);
        await b.kill9();
        await b.restart();
        const after = (await heartbeat("durable", m.memberId)).body;
        expect(after.assignment.map((a) => a.offset)).toEqual(f.positions.map((p) => p.offset));
        await produce(3);
        const next = await fetchAs("durable", m.memberId);
        expect(
          next.records.map((r) => r.value).sort((x, y) => (x as number) - (y as number)),
        ).toEqual([produced - 3, produced - 2, produced - 1]);
      });
    });

    describe("§14 group lag in the metrics stream", () => {
      it("publishes a group's lag per partition to __metrics after commits", async () => {
        const m = await join("workers", { sessionTimeoutMs: 60_000 });
        await produce(4);
        const f = await fetchAs("workers", m.memberId);
        await postJson(
          g("workers", `/members/${m.memberId}/commit`),
          { generation: f.generation, offsets: f.positions },
          member,
        );
        type Lag = { group?: string; totalLag: number; offsets: Array<{ lag: number | null }> };
        let last: Lag | undefined;
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          const { records } = await readPartition(url(), "__metrics", 0, 0, admin);
          last = records
            .map((r) => r.value as Lag)
            .filter((v) => v.group === "workers")
            .pop();
          if (last && last.totalLag === 0) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(last).toMatchObject({ group: "workers", totalLag: 0 });
        expect(last?.offsets).toHaveLength(4);
      });
    });
  });
}
