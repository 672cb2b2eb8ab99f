/**
 * The HTTP transport (PROTOCOL.md §17.6) against a real broker: `transport: "sse"` reads over
 * Server-Sent Events and produces over HTTP with the WebSocket's guarantees, and "auto" moves
 * to it when a proxy refuses WebSocket upgrades, with no record lost or repeated across the
 * switch.
 * Run against every host (transport.test.ts: wrangler dev; transport-node.test.ts: the Node host).
 */
import { afterEach, describe, expect, it } from "vitest";
import { joinGroup } from "../../src/group.ts";
import {
  type Ack,
  createClient,
  type Gap,
  type Rec,
  type Reset,
  type Status,
} from "../../src/index.ts";
import { ChaosProxy } from "../support/chaos-proxy.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, take, topicName, until, useBroker } from "../support/setup.ts";

export function transportSuite(host: SdkHost): void {
  describe(`the HTTP transport and the WebSocket fallback on ${host.name}`, () => {
    const broker = useBroker(() => ({}), host);
    const proxies: ChaosProxy[] = [];
    afterEach(async () => {
      await Promise.all(proxies.splice(0).map((p) => p.close()));
    });
    async function proxy(): Promise<ChaosProxy> {
      const p = await ChaosProxy.start(broker().port);
      proxies.push(p);
      return p;
    }
    const fast = { minDelayMs: 20, maxDelayMs: 200 };

    /** Each partition's offsets 0 to n - 1, once each and in order. */
    function expectEachOnce(got: Rec[], counts: Record<number, number>): void {
      for (const [p, n] of Object.entries(counts)) {
        const offsets = got.filter((r) => r.partition === Number(p)).map((r) => r.offset);
        expect(offsets).toEqual(Array.from({ length: n }, (_, i) => i));
      }
    }

    async function highWatermarks(topic: string): Promise<number[]> {
      const info = await broker().api<{ partitions: Array<{ highWatermark: number }> }>(
        `/v1/topics/${topic}`,
      );
      return info.partitions.map((p) => p.highWatermark);
    }

    describe('transport: "sse"', () => {
      it("produces over HTTP and reads over SSE: keys, headers, bytes and JSON, acks and offsets as over WebSocket", async () => {
        const topic = topicName("sse-rt");
        await broker().createTopic(topic, { partitions: 3 });
        const p = await proxy();
        const c = client(p.url, { transport: "sse" });
        const sub = c.subscribe(topic, { from: "earliest" });
        await sub.ready();
        const acks = await c.produce(topic, [
          { key: "k1", value: { a: 1 }, headers: { h: "v" }, timestamp: 1_700_000_000_000 },
          { key: "k1", value: new Uint8Array([0, 1, 255]) },
          { key: "k1", value: "text" },
          { value: null, partition: 2 },
        ]);
        // Keyed records go to their key's partition, in order; the keyless one where it was sent.
        const k1 = acks[0]?.partition as number;
        expect(acks.slice(0, 3)).toEqual([0, 1, 2].map((offset) => ({ partition: k1, offset })));
        expect(acks[3]).toEqual({ partition: 2, offset: k1 === 2 ? 3 : 0 });
        const got = await take(sub, 4);
        const byOffset = got
          .filter((r) => r.partition === k1)
          .map(({ key, value, headers, timestamp }) => ({ key, value, headers, timestamp }));
        expect(byOffset[0]).toMatchObject({
          key: "k1",
          value: { a: 1 },
          headers: { h: "v" },
          timestamp: 1_700_000_000_000,
        });
        expect(byOffset[1]?.value).toEqual(new Uint8Array([0, 1, 255]));
        expect(new TextDecoder().decode(byOffset[2]?.value as Uint8Array)).toBe("text");
        expect(got.find((r) => r.partition === 2 && r.key === null)?.value).toBeNull();
        // Nothing went over WebSocket.
        expect(p.seen.upgrades).toBe(0);
        expect(p.seen.sse).toBeGreaterThanOrEqual(3);
        expect(p.seen.posts).toBeGreaterThanOrEqual(1);
        // The broker holds what the WebSocket producer would have stored.
        expect(await highWatermarks(topic)).toEqual(
          [0, 1, 2].map((q) => got.filter((r) => r.partition === q).length),
        );
      });

      it("resumes from saved positions with no gap and no duplicate, and filters by key", async () => {
        const topic = topicName("sse-resume");
        await broker().createTopic(topic);
        const storage = new Map<string, string>();
        const store = {
          getItem: (k: string) => storage.get(k) ?? null,
          setItem: (k: string, v: string) => void storage.set(k, v),
        };
        const producer = client(broker().url);
        await producer.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: i % 2 ? "odd" : "even", value: i })),
        );
        const first = client(broker().url, { transport: "sse" });
        const a = first.subscribe<number>(topic, {
          from: "earliest",
          resume: { storage: store, key: "r" },
        });
        expect((await take(a, 4)).map((r) => r.value)).toEqual([0, 1, 2, 3]);
        await a.close();
        expect(JSON.parse(storage.get("r") ?? "")).toMatchObject({ 0: { offset: 4 } });
        await producer.produce(
          topic,
          Array.from({ length: 5 }, (_, i) => ({ value: 10 + i })),
        );
        const b = client(broker().url, { transport: "sse" }).subscribe<number>(topic, {
          from: "earliest",
          resume: { storage: store, key: "r" },
        });
        expect((await take(b, 11)).map((r) => r.value)).toEqual([
          4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
        ]);
        // A key filter: only "odd", and the position still passes the records left out.
        const odd = client(broker().url, { transport: "sse" }).subscribe<number>(topic, {
          from: "earliest",
          key: "odd",
        });
        expect((await take(odd, 5)).map((r) => r.value)).toEqual([1, 3, 5, 7, 9]);
        await until(() => odd.positions()[0]?.offset === 15, 10_000, "position past the rest");
        // From "latest": only what comes after.
        const latest = client(broker().url, { transport: "sse" }).subscribe<number>(topic);
        await latest.ready();
        await producer.produce(topic, [{ value: 99 }]);
        expect((await take(latest, 1))[0]).toMatchObject({ offset: 15, value: 99 });
      });

      it("stops reading an SSE stream the consumer does not keep up with (credit), then delivers every record once", async () => {
        const topic = topicName("sse-credit");
        await broker().createTopic(topic);
        const producer = client(broker().url);
        const value = "x".repeat(2_000);
        for (let i = 0; i < 40; i++)
          await producer.produce(
            topic,
            Array.from({ length: 100 }, () => ({ value })),
          );
        // Counts the bytes the SDK takes from each SSE response.
        let read = 0;
        const counting: typeof fetch = async (input, init) => {
          const res = await fetch(input, init);
          if (!String(input).includes("live=sse") || !res.body) return res;
          const count = new TransformStream<Uint8Array, Uint8Array>({
            transform(chunk, out) {
              read += chunk.length;
              out.enqueue(chunk);
            },
          });
          return new Response(res.body.pipeThrough(count), res);
        };
        const c = client(broker().url, { transport: "sse", fetch: counting });
        const got: number[] = [];
        let release: () => void = () => {};
        const gate = new Promise<void>((r) => (release = r));
        const sub = c.subscribe<string>(
          topic,
          { from: "earliest", creditBytes: 65_536 },
          async (r) => {
            got.push(r.offset);
            if (got.length === 10) await gate;
          },
        );
        await until(() => got.length === 10, 10_000, "the first records");
        await new Promise((r) => setTimeout(r, 1_000));
        // 8 MB in the log. With the consumer stuck, the SDK took one page past its credit (a page
        // is about 1 MiB, §17.2) and stopped reading; the rest is what the streams between it and
        // the socket hold ahead (this test's counting stream, fetch's body), not the log.
        expect(got.length).toBe(10);
        expect(read).toBeGreaterThan(0);
        expect(read).toBeLessThan(4 * 1024 * 1024);
        release();
        await until(() => got.length === 4_000, 30_000, "every record");
        expect(got).toEqual(Array.from({ length: 4_000 }, (_, i) => i));
        expect(read).toBeGreaterThan(8_000_000);
        await sub.close();
      });

      it("surfaces the broker's errors as over WebSocket: a partition the topic does not have, a topic deleted under a subscription", async () => {
        const topic = topicName("sse-errors");
        await broker().createTopic(topic);
        const c = client(broker().url, { transport: "sse", ...fast });
        const missing = await c.subscribe(topic, { partitions: [5] }).closed;
        expect(missing).toMatchObject({ code: "INVALID_PARTITION", retriable: false });
        const sub = c.subscribe(topic, { from: "earliest" });
        await sub.ready();
        await broker().api(`/v1/topics/${topic}`, { method: "DELETE" });
        const error = await sub.closed;
        expect(error).toBeDefined();
        expect((error as unknown as { code: string }).code).toMatch(/UNKNOWN_TOPIC|TOPIC_DELETED/);
      });
    });

    describe("gaps and resets over SSE", () => {
      it("emits a gap with the offsets retention removed, then continues from the earliest", async () => {
        const topic = topicName("sse-gap");
        await broker().createTopic(topic, { retentionBytes: 1 });
        const producer = client(broker().url);
        await producer.produce(
          topic,
          [0, 1, 2, 3, 4].map((value) => ({ value })),
        );
        await producer.produce(
          topic,
          [5, 6, 7, 8, 9].map((value) => ({ value })),
        );
        const info = await broker().api<{ partitions: Array<{ earliestOffset: number }> }>(
          `/v1/topics/${topic}`,
        );
        const earliest = info.partitions[0]?.earliestOffset as number;
        expect(earliest).toBeGreaterThan(0);
        const sub = client(broker().url, { transport: "sse" }).subscribe<number>(topic, {
          from: { offsets: { 0: 0 } },
        });
        const gaps: Gap[] = [];
        sub.on("gap", (g) => gaps.push(g));
        await sub.ready();
        await producer.produce(topic, [{ value: 99 }]);
        const [rec] = await take(sub, 1);
        expect(gaps).toEqual([{ partition: 0, from: 0, to: earliest }]);
        expect(rec?.offset).toBeGreaterThanOrEqual(earliest);
      });

      it("emits a reset when the topic was recreated, and reads the new log from the start", async () => {
        const topic = topicName("sse-reset");
        const c = client(broker().url, { transport: "sse" });
        await c.produce(
          topic,
          [0, 1, 2].map((value) => ({ value })),
        );
        const first = c.subscribe<number>(topic, { from: "earliest" });
        await take(first, 3);
        const saved = first.positions();
        await first.close();
        await broker().api(`/v1/topics/${topic}`, { method: "DELETE" });
        await client(broker().url).produce(topic, [{ value: 42 }]);
        const sub = client(broker().url, { transport: "sse" }).subscribe<number>(topic, {
          from: { positions: saved },
        });
        const resets: Reset[] = [];
        sub.on("reset", (r) => resets.push(r));
        const [rec] = await take(sub, 1);
        expect(rec).toMatchObject({ offset: 0, value: 42 });
        expect(resets).toHaveLength(1);
        expect(resets[0]?.previousEpoch).toBe(saved[0]?.epoch);
        expect(resets[0]?.epoch).not.toBe(saved[0]?.epoch);
      });
    });

    describe("consumer groups over SSE", () => {
      it("shares partitions between two members reading over SSE, every record once across a clean leave", async () => {
        const topic = topicName("sse-group");
        await broker().createTopic(topic, { partitions: 2 });
        const producer = client(broker().url);
        const produce = (from: number, n: number) =>
          producer.produce(
            topic,
            Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: from + i })),
          );
        await produce(0, 50);
        const seen: Array<[string, number]> = [];
        const options = {
          group: `${topic}-g`,
          topic,
          from: "earliest" as const,
          commitIntervalMs: 200,
        };
        const a = joinGroup<number>(client(broker().url, { transport: "sse" }), options, (r) => {
          seen.push(["a", r.value]);
        });
        await until(() => seen.length === 50, 20_000, "a reads all 50");
        const b = joinGroup<number>(client(broker().url, { transport: "sse" }), options, (r) => {
          seen.push(["b", r.value]);
        });
        await until(
          () => a.assignment().length === 1 && b.assignment().length === 1,
          20_000,
          "1 and 1",
        );
        await produce(50, 50);
        await until(() => seen.length === 100, 20_000, "all 100");
        expect(seen.some(([who]) => who === "b")).toBe(true);
        await a.close();
        await until(() => b.assignment().length === 2, 20_000, "b takes both");
        await produce(100, 20);
        await until(() => seen.length === 120, 20_000, "all 120");
        expect(seen.map(([, v]) => v).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 120 }, (_, i) => i),
        );
        await b.close();
      });
    });

    describe("a dead network under SSE", () => {
      it("finds a network that passes nothing by the keep-alive round trip, reconnects, and resumes", async () => {
        const topic = topicName("sse-blackhole");
        await broker().createTopic(topic);
        const chaos = await proxy();
        const c = client(chaos.url, {
          transport: "sse",
          ...fast,
          pingIntervalMs: 300,
          pongTimeoutMs: 300,
        });
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
        // Pings are answered with a request to the broker: none passes now.
        chaos.blackhole = true;
        await until(
          () => statuses.some((s) => s.state === "reconnecting" && s.error?.message === "no pong"),
          5_000,
          "the dead network found",
        );
        await producer.produce(topic, [{ value: 1 }, { value: 2 }]);
        chaos.blackhole = false;
        chaos.cutAll();
        await until(() => got.length === 3, 10_000);
        expect(got).toEqual([0, 1, 2]);
        expect(c.status.state).toBe("open");
        expect(chaos.seen.upgrades).toBe(0);
      });
    });

    describe("long-poll behind a proxy that buffers SSE (PROTOCOL.md §17.6)", () => {
      it("reads by long-poll when an SSE stream delivers no byte, every record once and in order", async () => {
        const topic = topicName("sse-buffered");
        await broker().createTopic(topic);
        const producer = client(broker().url);
        await producer.produce(
          topic,
          [0, 1, 2].map((value) => ({ value })),
        );
        const p = await proxy();
        p.bufferSse = true;
        const c = client(p.url, { transport: "sse", ...fast, openTimeoutMs: 300 });
        const got: Rec<number>[] = [];
        const sub = c.subscribe<number>(topic, { from: "earliest" }, (r) => {
          got.push(r);
        });
        await until(() => got.length === 3, 10_000, "the stored records");
        // Live: records committed while the reader waits in a long-poll.
        for (let i = 3; i < 9; i += 2) {
          await producer.produce(topic, [{ value: i }, { value: i + 1 }]);
          await until(() => got.length === i + 2, 10_000, `record ${i + 1}`);
        }
        expect(got.map((r) => [r.offset, r.value])).toEqual(
          Array.from({ length: 9 }, (_, i) => [i, i]),
        );
        expect(sub.positions()[0]?.offset).toBe(9);
        expect(p.seen.polls).toBeGreaterThanOrEqual(4);
        // One held stream: the partition does not try SSE again.
        expect(p.seen.sse).toBe(1);
        expect(c.status.state).toBe("open");
      });

      it("moves a subscription from SSE to long-poll at the next offset when a proxy starts buffering, with no gap or duplicate", async () => {
        const topic = topicName("sse-to-poll");
        await broker().createTopic(topic, { partitions: 2 });
        const p = await proxy();
        const c = client(p.url, { transport: "sse", ...fast, openTimeoutMs: 300 });
        const got: Rec<number>[] = [];
        const sub = c.subscribe<number>(topic, { from: "earliest" }, (r) => {
          got.push(r);
        });
        await sub.ready();
        const producer = client(broker().url, { lingerMs: 1 });
        const send = (from: number, n: number) =>
          producer.produce(
            topic,
            Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: from + i })),
          );
        await send(0, 20);
        await until(() => got.length === 20, 10_000, "records over SSE");
        expect(p.seen.polls).toBe(0);
        p.bufferSse = true;
        p.cutAll();
        await send(20, 20);
        await until(() => got.length >= 40, 20_000, "records by long-poll");
        await send(40, 10);
        await until(() => got.length >= 50, 20_000, "more records by long-poll");
        await new Promise((r) => setTimeout(r, 300));
        const hw = await highWatermarks(topic);
        expectEachOnce(got, { 0: hw[0] ?? 0, 1: hw[1] ?? 0 });
        expect(got.map((r) => r.value).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 50 }, (_, i) => i),
        );
        expect(p.seen.polls).toBeGreaterThanOrEqual(2);
      });
    });

    describe("idempotent produce over HTTP", () => {
      it("stores a request once when its answer was cut and the batch was sent again", async () => {
        const topic = topicName("sse-idem");
        await broker().createTopic(topic, { partitions: 2 });
        const p = await proxy();
        const c = client(p.url, { transport: "sse", ...fast, lingerMs: 1 });
        // Warm up (the topic lookup and the first socket), then cut the next three answers.
        await c.produce(topic, [{ key: "a", value: -1 }]);
        p.cutAnswers = 3;
        const acks: Ack[][] = [];
        for (let i = 0; i < 10; i++)
          acks.push(
            await c.produce(
              topic,
              Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: i * 5 + k })),
            ),
          );
        expect(p.answersCut).toBe(3);
        const total = (await highWatermarks(topic)).reduce((n, x) => n + x, 0);
        expect(total).toBe(51);
        const flat = acks.flat().map((a) => `${a.partition}:${a.offset}`);
        expect(new Set(flat).size).toBe(50);
        const stored = [
          ...(await broker().readAll(topic, 0)),
          ...(await broker().readAll(topic, 1)),
        ].map((r) => (r as { value: number }).value);
        expect(stored.sort((x, y) => x - y)).toEqual(Array.from({ length: 51 }, (_, i) => i - 1));
      });

      it("sends nothing behind a refused batch: the batches after it go again in order, each stored once", async () => {
        const topic = topicName("sse-refused-batch");
        await broker().createTopic(topic);
        // One record per batch, all in flight at once; the second cannot be sent over HTTP (a key that is not UTF-8).
        const c = client(broker().url, { transport: "sse", batchBytes: 1 });
        await c.produce(topic, [{ value: -1 }]);
        const calls = [
          c.produce(topic, [{ value: 0 }]),
          c.produce(topic, [{ key: new Uint8Array([0xff, 0xfe]), value: 1, partition: 0 }]),
          c.produce(topic, [{ value: 2 }]),
          c.produce(topic, [{ value: 3 }]),
        ];
        const results = await Promise.allSettled(calls);
        expect(results.map((r) => r.status)).toEqual([
          "fulfilled",
          "rejected",
          "fulfilled",
          "fulfilled",
        ]);
        expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
          code: "INVALID_REQUEST",
        });
        const stored = (await broker().readAll(topic, 0)).map(
          (r) => (r as { value: unknown }).value,
        );
        expect(stored).toEqual([-1, 0, 2, 3]);
        expect(
          results.flatMap((r) => (r.status === "fulfilled" ? r.value.map((a) => a.offset) : [])),
        ).toEqual([1, 2, 3]);
      });
    });

    describe('transport: "auto"', () => {
      it("moves to SSE and HTTP produce when a proxy refuses WebSocket upgrades", async () => {
        const topic = topicName("auto-refused");
        await broker().createTopic(topic);
        const p = await proxy();
        p.refuseUpgrades = true;
        const c = client(p.url, fast);
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        const acks = await c.produce(topic, [{ value: 1 }, { value: 2 }]);
        expect(acks).toEqual([0, 1].map((offset) => ({ partition: 0, offset })));
        expect((await take(sub, 2)).map((r) => r.value)).toEqual([1, 2]);
        expect(p.refused).toBeGreaterThanOrEqual(2);
        expect(p.seen.sse).toBeGreaterThanOrEqual(1);
        expect(p.seen.posts).toBeGreaterThanOrEqual(1);
        expect(c.status.state).toBe("open");
      });

      it("moves to SSE when a proxy holds WebSocket upgrades and never answers them (the open timeout, PROTOCOL.md §17.6)", async () => {
        const topic = topicName("auto-held");
        await broker().createTopic(topic);
        const p = await proxy();
        p.holdUpgrades = true;
        const c = client(p.url, { ...fast, openTimeoutMs: 300 });
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        const acks = await c.produce(topic, [{ value: 1 }, { value: 2 }]);
        expect(acks).toEqual([0, 1].map((offset) => ({ partition: 0, offset })));
        expect((await take(sub, 2)).map((r) => r.value)).toEqual([1, 2]);
        // Two sockets timed out, then the probe; nothing was refused, only held.
        expect(p.held).toBeGreaterThanOrEqual(3);
        expect(p.refused).toBe(0);
        expect(statuses.some((s) => s.error?.message === "not open in time")).toBe(true);
        expect(p.seen.sse).toBeGreaterThanOrEqual(1);
        expect(p.seen.posts).toBeGreaterThanOrEqual(1);
        expect(c.status.state).toBe("open");
      });

      it('keeps retrying a held upgrade with transport: "websocket", and opens once the proxy lets it through', async () => {
        const topic = topicName("ws-held");
        await broker().createTopic(topic);
        const p = await proxy();
        p.holdUpgrades = true;
        const c = client(p.url, { ...fast, transport: "websocket", openTimeoutMs: 200 });
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await until(() => p.held >= 3, 10_000, "held upgrades");
        expect(c.status).toMatchObject({ state: "reconnecting" });
        p.holdUpgrades = false;
        await sub.ready();
        await c.produce(topic, [{ value: 3 }]);
        expect((await take(sub, 1))[0]?.value).toBe(3);
        expect(p.seen.sse).toBe(0);
      });

      it("switches in the middle of a stream: the subscriber continues at the next offset, the producer's retried batches are stored once", async () => {
        const topic = topicName("auto-switch");
        await broker().createTopic(topic, { partitions: 2 });
        const p = await proxy();
        const reader = client(p.url, fast);
        const got: Rec<number>[] = [];
        const sub = reader.subscribe<number>(
          topic,
          { from: "earliest", creditBytes: 8_192 },
          (r) => {
            got.push(r);
          },
        );
        await sub.ready();
        const writer = client(p.url, { ...fast, lingerMs: 1 });
        const calls: Promise<Ack[]>[] = [];
        let sent = 0;
        const burst = async (n: number) => {
          for (let i = 0; i < n; i++, sent += 10) {
            calls.push(
              writer.produce(
                topic,
                Array.from({ length: 10 }, (_, k) => ({ key: `k${k}`, value: sent + k })),
              ),
            );
            await new Promise((r) => setTimeout(r, 5));
          }
        };
        await burst(20);
        await until(() => got.length >= 100, 10_000, "records over WebSocket");
        expect(p.seen.sse).toBe(0);
        // The proxy starts refusing upgrades and drops every open socket.
        p.refuseUpgrades = true;
        p.cutAll();
        await burst(20);
        const acks = (await Promise.all(calls)).flat();
        await until(() => got.length >= 400, 20_000, "every record");
        await new Promise((r) => setTimeout(r, 300));
        const hw = await highWatermarks(topic);
        expect((hw[0] ?? 0) + (hw[1] ?? 0)).toBe(400);
        expectEachOnce(got, { 0: hw[0] ?? 0, 1: hw[1] ?? 0 });
        expect(new Set(acks.map((a) => `${a.partition}:${a.offset}`)).size).toBe(400);
        expect(got.map((r) => r.value).sort((x, y) => x - y)).toEqual(
          Array.from({ length: 400 }, (_, i) => i),
        );
        expect(p.refused).toBeGreaterThanOrEqual(2);
        expect(p.seen.sse).toBeGreaterThanOrEqual(2);
        expect(p.seen.posts).toBeGreaterThanOrEqual(1);
      });

      it("stays on WebSocket when sockets fail because the broker is down, not blocked", async () => {
        const topic = topicName("auto-down");
        await broker().createTopic(topic);
        const p = await proxy();
        const c = client(p.url, fast);
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        // Every connection through the proxy is refused for a while: HTTP too.
        await p.close();
        proxies.splice(proxies.indexOf(p), 1);
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        await until(() => statuses.filter((s) => s.state === "reconnecting").length >= 4, 10_000);
        const again = await ChaosProxy.start(broker().port, { port: p.port });
        proxies.push(again);
        await broker().api(`/v1/topics/${topic}/records`, {
          method: "POST",
          body: JSON.stringify({ records: [{ value: 7 }] }),
        });
        expect((await take(sub, 1))[0]?.value).toBe(7);
        expect(again.seen.upgrades).toBeGreaterThanOrEqual(1);
        expect(again.seen.sse).toBe(0);
      });

      it("stays on WebSocket when two handshakes failed but the next one opens (the check's probe)", async () => {
        const topic = topicName("auto-flaky");
        await broker().createTopic(topic);
        const p = await proxy();
        p.refuseNext = 2;
        const c = client(p.url, fast);
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        await c.produce(topic, [{ value: 5 }]);
        expect((await take(sub, 1))[0]?.value).toBe(5);
        // The two refusals made the client check: GET /v1 answered, but the probe socket opened.
        await until(() => p.seen.upgrades >= 4, 10_000, "the probe");
        await new Promise((r) => setTimeout(r, 300));
        expect(p.refused).toBe(2);
        expect(p.seen.sse).toBe(0);
        expect(p.seen.posts).toBe(0);
      });

      it("uses HTTP on Node 20 when no WebSocket class is given (there is no global one)", async () => {
        const topic = topicName("auto-no-class");
        await broker().createTopic(topic);
        expect(globalThis.WebSocket).toBeUndefined();
        const p = await proxy();
        const c = createClient({ url: p.url });
        try {
          const sub = c.subscribe<number>(topic, { from: "earliest" });
          await sub.ready();
          expect(await c.produce(topic, [{ value: 4 }])).toEqual([{ partition: 0, offset: 0 }]);
          expect((await take(sub, 1))[0]?.value).toBe(4);
          expect(p.seen.upgrades).toBe(0);
          expect(p.seen.sse).toBeGreaterThanOrEqual(1);
        } finally {
          await c.close();
        }
      });

      it('never leaves WebSocket with transport: "websocket"', async () => {
        const topic = topicName("ws-only");
        await broker().createTopic(topic);
        const p = await proxy();
        p.refuseUpgrades = true;
        const c = client(p.url, { ...fast, transport: "websocket" });
        const sub = c.subscribe(topic, { from: "earliest" });
        await until(() => p.refused >= 4, 10_000, "refused upgrades");
        expect(p.seen.sse).toBe(0);
        await sub.close();
      });
    });
  });
}
