/**
 * The broker's metrics stream (docs/PROTOCOL.md §14): an active partition appends its
 * counters to `__metrics` about once a second, keyed "{topic}/{partition}"; system topics
 * publish nothing about themselves.
 */
import { StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { http, makeRecords, openSocket, sleep, uniqueTopic } from "./helpers.ts";

interface MetricsRecord {
  topic: string;
  partition: number;
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  commits: number;
  highWatermark: number;
  subscribers: number;
  windowMs: number;
}

async function metricsFor(topic: string): Promise<MetricsRecord[]> {
  const res = await http("GET", "/v1/topics/__metrics/partitions/0/records?offset=0&limit=1000");
  if (res.status !== 200) return [];
  return (res.body.records as Array<{ key: string; value: MetricsRecord }>)
    .filter((r) => r.key === `${topic}/0`)
    .map((r) => r.value);
}

async function waitForMetrics(topic: string, enough: (m: MetricsRecord[]) => boolean) {
  for (let i = 0; i < 40; i++) {
    const m = await metricsFor(topic);
    if (enough(m)) return m;
    await sleep(100);
  }
  throw new Error(`no metrics for ${topic}: ${JSON.stringify(await metricsFor(topic))}`);
}

describe("the __metrics stream", () => {
  it("carries a partition's records in and out, subscribers and high watermark within seconds", async () => {
    const topic = uniqueTopic("metered");
    const subscriber = await openSocket(topic);
    await subscriber.subscribe({ from: StartFrom.Earliest, credit: 1 << 20 });
    const producer = await openSocket(topic);
    await producer.produceEach([makeRecords(3), makeRecords(4)]);
    const metrics = await waitForMetrics(topic, (m) => m.reduce((n, x) => n + x.recordsIn, 0) >= 7);
    expect(metrics.reduce((n, x) => n + x.recordsIn, 0)).toBe(7);
    expect(metrics.reduce((n, x) => n + x.recordsOut, 0)).toBe(7);
    const last = metrics[metrics.length - 1] as MetricsRecord;
    expect(last).toMatchObject({ topic, partition: 0, highWatermark: 7, subscribers: 1 });
    expect(last.windowMs).toBeGreaterThan(0);
    subscriber.close();
    producer.close();
  });

  it("publishes nothing about the __metrics topic itself", async () => {
    const topic = uniqueTopic("feeds");
    const producer = await openSocket(topic);
    await producer.produceAck(makeRecords(1));
    await waitForMetrics(topic, (m) => m.length > 0);
    await sleep(1_500);
    expect(await metricsFor("__metrics")).toEqual([]);
    producer.close();
  });
});

describe("the __metrics topic's config", () => {
  it("is the broker's own (1 h, 64 MiB) even when a client's lookup creates it first", async () => {
    await http("DELETE", "/v1/topics/__metrics");
    const res = await http("GET", "/v1/topics/__metrics?create=true");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      partitionCount: 1,
      retentionMs: 3_600_000,
      retentionBytes: 64 * 1024 * 1024,
    });
  });
});
