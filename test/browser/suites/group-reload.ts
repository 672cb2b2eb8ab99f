/**
 * Static membership in a browser (PROTOCOL.md §16.1): a tab keeps its group instance id in
 * sessionStorage, so a page reload rejoins with the same partitions, no rebalance and no new
 * generation, and goes on from the group's committed offsets.
 */
import { describe, expect, it } from "vitest";
import type { SdkHost } from "../../../client-sdk/test/support/hosts.ts";
import { postJson } from "../../lib/http.ts";
import { useHarness } from "../harness.ts";

const GROUP = "tabs";
const TOPIC = "reload-orders";

const PAGES = {
  "member.html": `<!doctype html><meta charset="utf-8"><title>group member</title>
<script type="module">
  import { createClient } from "/dist/index.js";
  import { joinGroup } from "/dist/group.js";
  let instanceId = sessionStorage.getItem("kaiten-instance");
  if (!instanceId) {
    instanceId = "tab-" + crypto.randomUUID();
    sessionStorage.setItem("kaiten-instance", instanceId);
  }
  window.instanceId = instanceId;
  window.got = [];
  window.assigned = [];
  const client = createClient({ url: "BROKER_URL", minDelayMs: 50, maxDelayMs: 500 });
  window.member = joinGroup(
    client,
    { group: "${GROUP}", topic: "${TOPIC}", from: "earliest", instanceId, sessionTimeoutMs: 30000, commitIntervalMs: 200 },
    (r) => { window.got.push([r.partition, r.offset, r.value]); },
  );
  window.member.on("assigned", (p) => window.assigned.push(...p));
</script>`,
};

interface Described {
  generation: number;
  members: Array<{
    id: string;
    instanceId: string | null;
    partitions: Array<{ partition: number }>;
  }>;
  offsets: Array<{ partition: number; committed: number | null }>;
}

declare global {
  interface Window {
    instanceId: string;
    got: Array<[number, number, unknown]>;
    assigned: number[];
    member: { assignment(): number[] };
  }
}

async function describeGroup(url: string): Promise<Described> {
  const res = await fetch(`${url}/v1/groups/${GROUP}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Described;
}

const partitionsOf = (d: Described, instanceId: string) =>
  (d.members.find((m) => m.instanceId === instanceId)?.partitions ?? [])
    .map((p) => p.partition)
    .sort();

export function groupReloadSuite(host: SdkHost): void {
  describe(`a consumer group member in a browser tab on ${host.name}`, () => {
    const harness = useHarness(PAGES, undefined, host);

    it("rejoins after a page reload with the same partitions, no rebalance, from the committed offsets", async () => {
      const h = harness();
      const url = h.broker.url;
      expect(
        (await postJson(`${url}/v1/topics`, { name: TOPIC, partitions: 4 })).status,
      ).toBeLessThan(300);
      // A second member (a service, over HTTP) so that the tab holds two of the four partitions.
      const worker = await postJson<{ memberId: string; generation: number }>(
        `${url}/v1/groups/${GROUP}/members`,
        { topics: [TOPIC], instanceId: "service-1", sessionTimeoutMs: 60_000 },
      );
      expect(worker.status).toBe(200);

      const p = await (await h.context()).newPage();
      await p.goto(`${h.origin}/member.html`);
      const instanceId = await p.evaluate(() => window.instanceId);
      // The service keeps its session and releases what it must give up (§16.3).
      const beat = () =>
        postJson<{
          generation: number;
          assignment: Array<{ partition: number }>;
          revoke: unknown[];
        }>(`${url}/v1/groups/${GROUP}/members/${worker.body.memberId}/heartbeat`, {});
      let settled: Described | undefined;
      await expect
        .poll(
          async () => {
            const v = (await beat()).body;
            if (v.revoke.length)
              await postJson(
                `${url}/v1/groups/${GROUP}/members/${worker.body.memberId}/heartbeat`,
                {
                  released: v.revoke,
                },
              );
            settled = await describeGroup(url);
            return settled.members.map((m) => m.partitions.length).sort();
          },
          { timeout: 30_000, interval: 300 },
        )
        .toEqual([2, 2]);
      const before = settled as Described;
      const tabPartitions = partitionsOf(before, instanceId);
      expect(tabPartitions).toHaveLength(2);
      await expect.poll(() => p.evaluate(() => window.member.assignment())).toEqual(tabPartitions);

      // Twenty records, keyed so that every partition gets some; the tab reads its partitions'.
      const keys = Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: i }));
      const first = await postJson<{ offsets: Array<{ partition: number; offset: number }> }>(
        `${url}/v1/topics/${TOPIC}/records`,
        { records: keys },
      );
      const mine = first.body.offsets.filter((o) => tabPartitions.includes(o.partition));
      expect(mine.length).toBeGreaterThan(0);
      await p.waitForFunction((n) => window.got.length === n, mine.length, { timeout: 20_000 });
      // Committed within the commit interval.
      await expect
        .poll(
          async () => {
            const d = await describeGroup(url);
            return tabPartitions.map(
              (tp) => d.offsets.find((o) => o.partition === tp)?.committed ?? null,
            );
          },
          { timeout: 10_000 },
        )
        .toEqual(tabPartitions.map((tp) => mine.filter((o) => o.partition === tp).length || null));

      await p.reload();
      // Same tab, same sessionStorage: the same instance id, the same partitions, no rebalance.
      expect(await p.evaluate(() => window.instanceId)).toBe(instanceId);
      await p.waitForFunction(() => window.assigned.length === 2, undefined, { timeout: 20_000 });
      expect((await p.evaluate(() => window.assigned)).sort()).toEqual(tabPartitions);
      const after = await describeGroup(url);
      expect(after.generation).toBe(before.generation);
      expect(after.members).toHaveLength(2);
      expect(partitionsOf(after, instanceId)).toEqual(tabPartitions);
      expect(partitionsOf(after, "service-1")).toEqual(partitionsOf(before, "service-1"));
      // The service was not disturbed: nothing to revoke, the same generation.
      const view = (await beat()).body;
      expect(view.generation).toBe(before.generation);
      expect(view.revoke).toEqual([]);

      // The reloaded tab goes on from the committed offsets: only records produced after it.
      const second = await postJson<{ offsets: Array<{ partition: number; offset: number }> }>(
        `${url}/v1/topics/${TOPIC}/records`,
        { records: keys.map((k) => ({ ...k, value: k.value + 100 })) },
      );
      const mineNow = second.body.offsets.filter((o) => tabPartitions.includes(o.partition));
      await p.waitForFunction((n) => window.got.length >= n, mineNow.length, { timeout: 20_000 });
      await new Promise((r) => setTimeout(r, 500));
      const got = await p.evaluate(() => window.got);
      expect(got.map(([partition, offset]) => `${partition}/${offset}`).sort()).toEqual(
        mineNow.map((o) => `${o.partition}/${o.offset}`).sort(),
      );
      expect(got.every(([, , value]) => (value as number) >= 100)).toBe(true);
    });
  });
}
