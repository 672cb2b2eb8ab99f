/**
 * Network mishaps between the SDK and a real broker: a TCP proxy that cuts connections at
 * random, a black hole that keeps sockets open and passes nothing (only the heartbeat can
 * tell), and a broker killed and started again on the same data. Run against every host
 * (chaos.test.ts: wrangler dev; chaos-node.test.ts: the Node host).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Ack, Rec, Status } from "../../src/index.ts";
import { ChaosProxy } from "../support/chaos-proxy.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, topicName, until, useBroker } from "../support/setup.ts";

export function chaosSuite(host: SdkHost): void {
  describe(`the SDK through network mishaps on ${host.name}`, () => {
    const broker = useBroker(() => ({}), host);
    const proxies: ChaosProxy[] = [];
    afterEach(async () => {
      await Promise.all(proxies.splice(0).map((p) => p.close()));
    });
    async function proxy(maxLifeMs = 0): Promise<ChaosProxy> {
      const p = await ChaosProxy.start(broker().port, { maxLifeMs });
      proxies.push(p);
      return p;
    }
    /** Quick retries: these tests cut connections dozens of times. */
    const fast = { minDelayMs: 20, maxDelayMs: 200 };

    /** Resolves once partition 0 of the topic holds `n` records, read over HTTP. */
    async function storedUpTo(topic: string, n: number): Promise<void> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const info = await broker().api<{ partitions: Array<{ highWatermark: number }> }>(
          `/v1/topics/${topic}`,
        );
        if ((info.partitions[0]?.highWatermark ?? 0) >= n) return;
        if (Date.now() > deadline) throw new Error(`${topic} never held ${n} records`);
        await new Promise((r) => setTimeout(r, 10));
      }
    }

    /** Checks every partition's records arrived once each and in offset order, 0 to n - 1. */
    function expectEachOnceInOrder(got: Rec<number>[], counts: Record<number, number>): void {
      for (const [p, n] of Object.entries(counts)) {
        const offsets = got.filter((r) => r.partition === Number(p)).map((r) => r.offset);
        expect(offsets).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }

    describe("through connections cut at random", () => {
      it("a subscriber sees every record once and in order while a producer writes", async () => {
        const topic = topicName("chaos-sub");
        await broker().createTopic(topic, { partitions: 2 });
        const chaos = await proxy(250);
        const got: Rec<number>[] = [];
        const sub = client(chaos.url, fast).subscribe<number>(
          topic,
          { from: "earliest", creditBytes: 4_096 },
          (r) => {
            got.push(r);
          },
        );
        const producer = client(broker().url);
        const total = 4_000;
        for (let i = 0; i < total; i += 100) {
          await producer.produce(
            topic,
            Array.from({ length: 100 }, (_, k) => ({ key: `k${(i + k) % 7}`, value: i + k })),
          );
          await new Promise((r) => setTimeout(r, 20));
        }
        await until(() => got.length >= total, 30_000, "every record");
        const info = await broker().api<{ partitions: Array<{ highWatermark: number }> }>(
          `/v1/topics/${topic}`,
        );
        expectEachOnceInOrder(got, {
          0: info.partitions[0]?.highWatermark ?? 0,
          1: info.partitions[1]?.highWatermark ?? 0,
        });
        expect(got).toHaveLength(total);
        expect(chaos.cuts).toBeGreaterThan(3);
        await sub.close();
      });

      it("a producer retrying through the cuts stores each record once", async () => {
        const topic = topicName("chaos-prod");
        await broker().createTopic(topic, { partitions: 3 });
        const chaos = await proxy(100);
        const c = client(chaos.url, { ...fast, lingerMs: 2 });
        const total = 6_000;
        const calls: Promise<unknown>[] = [];
        for (let i = 0; i < total; i += 10) {
          calls.push(
            c.produce(
              topic,
              Array.from({ length: 10 }, (_, k) => ({ value: i + k })),
            ),
          );
          if (i % 100 === 0) await new Promise((r) => setTimeout(r, 20));
        }
        await Promise.all(calls);
        expect(chaos.cuts).toBeGreaterThan(3);
        const stored = (await Promise.all([0, 1, 2].map((p) => broker().readAll(topic, p)))).flat();
        expect(stored.map((r) => r.value as number).sort((a, b) => a - b)).toEqual(
          Array.from({ length: total }, (_, i) => i),
        );
      });

      it("cuts connections while several batches are in flight: each record stored once, in produce order", async () => {
        const topic = topicName("chaos-pipeline");
        await broker().createTopic(topic, { partitions: 1 });
        const chaos = await proxy(100);
        // Small batches, all produced at once: the partition keeps its five batches in flight.
        const c = client(chaos.url, { ...fast, batchBytes: 4_096 });
        // Rounds of 20,000 records until the proxy has cut at least four times (a fast machine
        // finishes one round between two cuts); at most ten rounds.
        const round = 20_000;
        let total = 0;
        const acks: Ack[] = [];
        for (let r = 0; r < 10 && chaos.cuts <= 3; r++) {
          const calls: Promise<Ack[]>[] = [];
          for (let i = total; i < total + round; i += 50) {
            calls.push(
              c.produce(
                topic,
                Array.from({ length: 50 }, (_, k) => ({ value: i + k })),
              ),
            );
          }
          acks.push(...(await Promise.all(calls)).flat());
          total += round;
        }
        expect(chaos.cuts).toBeGreaterThan(3);
        const stored = await broker().readAll(topic, 0);
        expect(stored.map((r) => r.value)).toEqual(Array.from({ length: total }, (_, i) => i));
        // Each record's ack names where it was stored: a resent batch is answered with its first offsets.
        expect(acks.map((a) => a.offset)).toEqual(stored.map((r) => r.offset));
      });
    });

    describe("lost acknowledgements", () => {
      it("answers a batch resent after its ack was lost with its first offsets, and stores it once (§6)", async () => {
        const topic = topicName("lost-ack");
        await broker().createTopic(topic, { partitions: 1 });
        const chaos = await proxy();
        const c = client(chaos.url, fast);
        await c.produce(topic, [{ value: -1 }]);
        // The batch reaches the broker and is stored; its ack is dropped on the way back.
        chaos.dropReplies = true;
        const pending = c.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ value: i })),
        );
        await storedUpTo(topic, 11);
        chaos.dropReplies = false;
        chaos.cutAll();
        const acks = await pending;
        expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
        const stored = await broker().readAll(topic, 0);
        expect(stored.map((r) => r.value)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      });
    });

    describe("dead sockets and restarts", () => {
      it("finds a socket that passes nothing by its heartbeat, reconnects, and resumes", async () => {
        const topic = topicName("blackhole");
        const chaos = await proxy();
        const c = client(chaos.url, { ...fast, pingIntervalMs: 300, pongTimeoutMs: 300 });
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const got: number[] = [];
        const sub = c.subscribe<number>(topic, { from: "earliest" }, (r) => {
          got.push(r.value);
        });
        await sub.ready();
        const producer = client(broker().url);
        await producer.produce(topic, [{ value: 0 }]);
        await until(() => got.length === 1);
        chaos.blackhole = true;
        await until(
          () =>
            statuses.some((s) => s.state === "reconnecting" && s.error?.code === "CONNECTION_LOST"),
          5_000,
        );
        await producer.produce(topic, [{ value: 1 }, { value: 2 }]);
        chaos.blackhole = false;
        chaos.cutAll();
        await until(() => got.length === 3, 10_000);
        expect(got).toEqual([0, 1, 2]);
        expect(c.status.state).toBe("open");
      });

      it("resumes a subscription and completes a produce across a broker crash and restart", async () => {
        const topic = topicName("restart");
        const c = client(broker().url, fast);
        const got: number[] = [];
        const sub = c.subscribe<number>(topic, { from: "earliest" }, (r) => {
          got.push(r.value);
        });
        await c.produce(topic, [{ value: 0 }, { value: 1 }]);
        await until(() => got.length === 2);
        await broker().stop();
        const during = c.produce(topic, [{ value: 2 }]);
        await until(() => c.status.state === "reconnecting");
        await broker().launch();
        await expect(during).resolves.toEqual([{ partition: 0, offset: 2 }]);
        await until(() => got.length === 3, 20_000);
        expect(got).toEqual([0, 1, 2]);
        await sub.close();
      });
    });
  });
}
