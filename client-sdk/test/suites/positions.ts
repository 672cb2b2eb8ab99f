/**
 * Start positions, resume, key filter, many partitions, and the gap and reset events (§5.2).
 * Run against every host (positions.test.ts: wrangler dev; positions-node.test.ts: the Node host).
 */
import { describe, expect, it } from "vitest";
import type { Gap, Positions, Reset } from "../../src/index.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, take, topicName, until, useBroker } from "../support/setup.ts";

export function positionsSuite(host: SdkHost): void {
  describe(`positions on ${host.name}`, () => {
    const broker = useBroker(() => ({}), host);
    const values = (n: number, from = 0) =>
      Array.from({ length: n }, (_, i) => ({ value: from + i }));

    /** localStorage's two methods, in memory. */
    class MemoryStorage {
      readonly items = new Map<string, string>();
      getItem(key: string): string | null {
        return this.items.get(key) ?? null;
      }
      setItem(key: string, value: string): void {
        this.items.set(key, value);
      }
    }

    describe("start positions", () => {
      it("starts from given offsets per partition, and from the earliest for partitions left out", async () => {
        const topic = topicName("offsets");
        await broker().createTopic(topic, { partitions: 2 });
        const c = client(broker().url);
        await c.produce(
          topic,
          values(5).map((r) => ({ ...r, partition: 0 })),
        );
        await c.produce(
          topic,
          values(3, 100).map((r) => ({ ...r, partition: 1 })),
        );
        const got = await take(c.subscribe<number>(topic, { from: { offsets: { 0: 3 } } }), 5);
        expect(got.filter((r) => r.partition === 0).map((r) => r.value)).toEqual([3, 4]);
        expect(got.filter((r) => r.partition === 1).map((r) => r.value)).toEqual([100, 101, 102]);
      });

      it("starts from the first record at or after a timestamp", async () => {
        const topic = topicName("time");
        const c = client(broker().url);
        await c.produce(
          topic,
          [100, 200, 300, 400].map((t) => ({ value: t, timestamp: t })),
        );
        const got = await take(c.subscribe<number>(topic, { from: { timestamp: 250 } }), 2);
        expect(got.map((r) => r.value)).toEqual([300, 400]);
      });

      it("resumes from saved positions with no gap and no duplicate", async () => {
        const topic = topicName("resume");
        await broker().createTopic(topic, { partitions: 3 });
        const c = client(broker().url);
        await c.produce(
          topic,
          values(30).map((r) => ({ ...r, key: `k${r.value}` })),
        );
        const first = c.subscribe<number>(topic, { from: "earliest" });
        const seen = (await take(first, 12)).map((r) => r.value);
        const saved: Positions = first.positions();
        await first.close();
        await c.produce(
          topic,
          values(10, 30).map((r) => ({ ...r, key: `k${r.value}` })),
        );
        const rest = await take(
          client(broker().url).subscribe<number>(topic, { from: { positions: saved } }),
          28,
        );
        expect([...seen, ...rest.map((r) => r.value)].sort((a, b) => a - b)).toEqual(
          values(40).map((r) => r.value),
        );
      });

      it("resumes from storage (resume: { storage, key }) across a new client, as after a page reload", async () => {
        const topic = topicName("storage");
        const storage = new MemoryStorage();
        const resume = { storage, key: "sub" };
        await client(broker().url).produce(topic, values(10));
        const first = client(broker().url).subscribe<number>(topic, { from: "earliest", resume });
        expect((await take(first, 4)).map((r) => r.value)).toEqual([0, 1, 2, 3]);
        await first.close();
        expect(JSON.parse(storage.getItem("sub") as string)[0].offset).toBe(4);
        const again = client(broker().url).subscribe<number>(topic, { from: "earliest", resume });
        expect((await take(again, 6)).map((r) => r.value)).toEqual([4, 5, 6, 7, 8, 9]);
      });
    });

    describe("filters and partitions", () => {
      it("reads only the key's records, from the key's partition only, and its position skips the rest", async () => {
        const topic = topicName("key");
        await broker().createTopic(topic, { partitions: 4 });
        const c = client(broker().url);
        await c.produce(
          topic,
          Array.from({ length: 40 }, (_, i) => ({
            key: i % 5 === 0 ? "EURUSD" : `k${i}`,
            value: i,
          })),
        );
        const sub = c.subscribe<number>(topic, { from: "earliest", key: "EURUSD" });
        const got = await take(sub, 8);
        expect(got.map((r) => r.value)).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
        expect(new Set(got.map((r) => r.key))).toEqual(new Set(["EURUSD"]));
        const [partition] = Object.keys(sub.positions());
        expect(Object.keys(sub.positions())).toHaveLength(1);
        const hw = await broker().api<{ partitions: Array<{ highWatermark: number }> }>(
          `/v1/topics/${topic}`,
        );
        await until(
          () =>
            sub.positions()[Number(partition)]?.offset ===
            hw.partitions[Number(partition)]?.highWatermark,
        );
      });

      it("reads many partitions at once, each in order", async () => {
        const topic = topicName("many");
        await broker().createTopic(topic, { partitions: 16 });
        const c = client(broker().url);
        const records = Array.from({ length: 800 }, (_, i) => ({ key: `key-${i % 50}`, value: i }));
        await c.produce(topic, records);
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        const got = await take(sub, 800);
        expect(new Set(got.map((r) => r.partition)).size).toBe(16);
        for (let p = 0; p < 16; p++) {
          const offsets = got.filter((r) => r.partition === p).map((r) => r.offset);
          expect(offsets).toEqual(offsets.map((_, i) => i));
        }
        expect(got.map((r) => r.value).sort((a, b) => a - b)).toEqual(records.map((r) => r.value));
      });

      it("subscribes to the chosen partitions only", async () => {
        const topic = topicName("some");
        await broker().createTopic(topic, { partitions: 3 });
        const c = client(broker().url);
        await c.produce(
          topic,
          [0, 1, 2].map((p) => ({ value: p, partition: p })),
        );
        const sub = c.subscribe<number>(topic, { from: "earliest", partitions: [0, 2] });
        expect((await take(sub, 2)).map((r) => r.value).sort()).toEqual([0, 2]);
        expect(Object.keys(sub.positions()).sort()).toEqual(["0", "2"]);
      });
    });

    describe("lost positions are reported, never skipped", () => {
      it("emits a gap with the offsets retention removed, then continues from the earliest", async () => {
        const topic = topicName("gap");
        // Each commit is trimmed right away: the log keeps nothing older than its newest chunk.
        await broker().createTopic(topic, { retentionBytes: 1 });
        const c = client(broker().url);
        await c.produce(topic, values(5));
        await c.produce(topic, values(5, 5));
        const info = await broker().api<{ partitions: Array<{ earliestOffset: number }> }>(
          `/v1/topics/${topic}`,
        );
        const earliest = info.partitions[0]?.earliestOffset as number;
        expect(earliest).toBeGreaterThan(0);
        const sub = c.subscribe<number>(topic, { from: { offsets: { 0: 0 } } });
        const gaps: Gap[] = [];
        sub.on("gap", (g) => gaps.push(g));
        // Subscribed first: a commit before the subscription would move the earliest offset on.
        await sub.ready();
        await c.produce(topic, [{ value: 99 }]);
        const [rec] = await take(sub, 1);
        expect(gaps).toEqual([{ partition: 0, from: 0, to: earliest }]);
        expect(rec?.offset).toBeGreaterThanOrEqual(earliest);
      });

      it("emits a reset when the topic was recreated (EPOCH_MISMATCH) and reads the new log from the start", async () => {
        const topic = topicName("reset");
        const c = client(broker().url);
        await c.produce(topic, values(3));
        const first = c.subscribe<number>(topic, { from: "earliest" });
        await take(first, 3);
        const saved = first.positions();
        await first.close();
        await broker().api(`/v1/topics/${topic}`, { method: "DELETE" });
        // A new client: this one's producer socket is being closed by the deletion (4022).
        await client(broker().url).produce(topic, [{ value: 42 }]);
        const sub = client(broker().url).subscribe<number>(topic, { from: { positions: saved } });
        const resets: Reset[] = [];
        sub.on("reset", (r) => resets.push(r));
        const [rec] = await take(sub, 1);
        expect(rec?.value).toBe(42);
        expect(rec?.offset).toBe(0);
        expect(resets).toHaveLength(1);
        expect(resets[0]?.previousEpoch).toBe(saved[0]?.epoch);
        expect(resets[0]?.epoch).not.toBe(saved[0]?.epoch);
      });
    });
  });
}
