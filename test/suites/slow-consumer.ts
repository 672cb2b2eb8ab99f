/**
 * A slow consumer (docs/PROTOCOL.md §5.3): one subscriber stops reading while a producer
 * streams and other subscribers read at full rate. Its connection goes through a proxy that
 * keeps, and counts, whatever the broker sends it, as a client that stops reading would,
 * without kernel socket buffers hiding how much was pushed. The broker must send it no more
 * than its credit (plus one frame) and keep nothing queued for it, so its memory stays
 * bounded; the others keep receiving; and when the slow one reads again it catches up from
 * the log with nothing lost.
 *
 * The stopped reader uses the bench's lean client (test/bench/lean-client.ts), which checks
 * offsets in place: decoding its whole catch-up into objects in this process would delay the
 * other subscribers' receipt and show as latency the broker did not add.
 *
 * Sizes: KAITEN_SLOW_PAUSE_MS (30 s under soak), KAITEN_SLOW_RATE records/s.
 */
import { randomBytes } from "node:crypto";
import { Limits, RECORDS_HEADER_BYTES, StartFrom, ValueFormat } from "@kaiten/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BenchSocket } from "../bench/lean-client.ts";
import { useBroker } from "../lib/broker.ts";
import { ChaosProxy, type ProxiedConnection } from "../lib/chaos-proxy.ts";
import { Connection, type Subscription } from "../lib/client.ts";
import { postJson } from "../lib/http.ts";
import { rssBytes } from "../lib/proc.ts";
import { size } from "../reliability/sizes.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

export function slowConsumerSuite(host: HostUnderTest): void {
  describe(`slow consumer on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host));
    const TOPIC = "slow";
    const PAUSE_MS = size("KAITEN_SLOW_PAUSE_MS", 5_000, 30_000);
    const RATE = size("KAITEN_SLOW_RATE", 5_000, 5_000);
    const PER_BATCH = 50;
    const VALUE_BYTES = 200;
    /** Before and after the pause, producing goes on this long. */
    const EDGE_MS = 1_000;
    /** The slow subscriber's credit window. */
    const SLOW_CREDIT = 256 * 1024;
    const FAST = 2;

    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);

    /** Latency samples of the fast subscribers, by phase. */
    const latency = { before: [] as number[], during: [] as number[], after: [] as number[] };
    let phase: keyof typeof latency = "before";
    let proxy: ProxiedConnection | null = null;
    let chaos: ChaosProxy;
    let fast: Subscription[];
    let slow: BenchSocket;
    let produced = 0;
    let heldAtRelease = 0;
    const rss = { before: 0, maxDuring: 0, after: 0 };

    function quantile(samples: number[], q: number): number {
      const sorted = [...samples].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
    }

    /** Produces at RATE records/s until `stop()`; resolves with the count once all are acked. */
    function startProducing(c: Connection): { stop: () => Promise<number> } {
      let running = true;
      const acks: Promise<unknown>[] = [];
      const loop = (async () => {
        const start = Date.now();
        for (let b = 0; running; b++) {
          const wait = start + (b * PER_BATCH * 1000) / RATE - Date.now();
          if (wait > 0) await sleep(wait);
          const records = range(PER_BATCH).map(() => ({
            key: null,
            // Random, so that WebSocket compression cannot shrink what the broker sends.
            value: randomBytes(VALUE_BYTES),
            format: ValueFormat.Bytes,
            headers: [],
            timestamp: Date.now(),
          }));
          acks.push(c.produce(records));
          produced += PER_BATCH;
        }
      })();
      return {
        stop: async () => {
          running = false;
          await loop;
          await Promise.all(acks);
          return produced;
        },
      };
    }

    function sampleRss(runtime: number): () => void {
      const timer = setInterval(() => {
        rss.maxDuring = Math.max(rss.maxDuring, rssBytes(runtime));
      }, 100);
      return () => clearInterval(timer);
    }

    beforeAll(async () => {
      expect((await postJson(`${broker().url}/v1/topics`, { name: TOPIC })).status).toBe(201);
      const runtime = host.runtimePid(broker());
      chaos = await ChaosProxy.start(broker().port);
      chaos.onConnection = (c) => {
        proxy = c;
      };
      slow = await BenchSocket.open(chaos.url, TOPIC, 0);
      await slow.subscribe({ from: StartFrom.Earliest, creditWindow: SLOW_CREDIT });
      fast = await Promise.all(
        range(FAST).map(async () => {
          const c = await Connection.open(broker().url, TOPIC, 0);
          const sub = await c.subscribe({ from: StartFrom.Earliest });
          sub.onRecords = (records) => {
            const now = Date.now();
            for (const r of records) latency[phase].push(now - r.timestamp);
          };
          return sub;
        }),
      );
      const producer = await Connection.open(broker().url, TOPIC, 0);
      const producing = startProducing(producer);
      await sleep(EDGE_MS);
      rss.before = rssBytes(runtime);
      proxy?.hold();
      phase = "during";
      const stopSampling = sampleRss(runtime);
      await sleep(PAUSE_MS);
      stopSampling();
      heldAtRelease = proxy?.heldBytes ?? 0;
      phase = "after";
      proxy?.release();
      await sleep(EDGE_MS);
      await producing.stop();
      await Promise.all(fast.map((s) => s.waitForOffset(produced, 60_000)));
      const deadline = Date.now() + 60_000;
      while (slow.stats.nextOffset < produced && Date.now() < deadline) await sleep(10);
      rss.after = rssBytes(runtime);
      const mib = (n: number) => (n / 1_048_576).toFixed(1);
      const figures = (k: keyof typeof latency) =>
        `p50 ${quantile(latency[k], 0.5)} ms, p99 ${quantile(latency[k], 0.99)} ms (${latency[k].length})`;
      console.log(
        `slow consumer: ${produced} records produced, ${mib(produced * VALUE_BYTES)} MiB; ` +
          `held for the stopped reader: ${mib(heldAtRelease)} MiB\n` +
          `broker RSS ${mib(rss.before)} MiB before, at most ${mib(rss.maxDuring)} MiB during the ` +
          `pause, ${mib(rss.after)} MiB after catching up\n` +
          `others' latency before: ${figures("before")}; during: ${figures("during")}; after: ${figures("after")}`,
      );
    });

    afterAll(async () => {
      await chaos?.close();
    });

    describe(`a subscriber that stops reading for ${PAUSE_MS / 1000} s`, () => {
      it("is sent no more than its credit and one frame meanwhile (§5.3)", () => {
        const oneFrame = RECORDS_HEADER_BYTES + Limits.maxChunkBytes;
        // WebSocket framing adds at most 14 bytes per message; 64 KiB covers it generously.
        expect(heldAtRelease).toBeLessThanOrEqual(SLOW_CREDIT + oneFrame + 65_536);
        // Far more than that was produced meanwhile: the broker held it back, not the network.
        expect((PAUSE_MS / 1000) * RATE * VALUE_BYTES).toBeGreaterThan(
          2 * (SLOW_CREDIT + oneFrame),
        );
      });

      it("keeps the broker's memory bounded: nothing is queued for the stopped reader", () => {
        // A broker queueing for the stopped reader would grow by what was produced meanwhile;
        // the bound is loose, since RSS also moves with SQLite's cache and the JavaScript heap.
        expect(rss.maxDuring - rss.before).toBeLessThan(256 * 1_048_576);
      });

      it("let the other subscribers receive everything meanwhile", () => {
        expect(latency.during.length).toBeGreaterThan(0);
        for (const sub of fast) expect(sub.offsets()).toEqual(range(produced));
      });

      it("catches up once it reads again, with nothing lost or duplicated", () => {
        expect(slow.stats).toMatchObject({
          records: produced,
          nextOffset: produced,
          lost: 0,
          duplicates: 0,
        });
      });
    });
  });
}
