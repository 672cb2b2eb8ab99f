/**
 * Quick throughput figures for the note, on a real `wrangler dev` (docs/PROTOCOL.md
 * §5): one producer streaming batches, then one new subscriber catching up from the earliest
 * offset. Printed and written to test/results/quick-figures.json; only the counts are
 * asserted, since timings on a shared machine are noise for a pass/fail decision.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { StartFrom, ValueFormat, type WireRecord } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { Connection, type OutgoingBatch, pipeline } from "../lib/client.ts";
import { postJson } from "../lib/http.ts";

const broker = useBroker();
const TOPIC = "quick";
const RECORDS = 20_000;
const PER_BATCH = 100;
const RECORD_BYTES = 200;
const WINDOW = 10;
const RESULTS = fileURLToPath(new URL("../results/", import.meta.url));

const figures: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  records: RECORDS,
  recordsPerBatch: PER_BATCH,
  valueBytes: RECORD_BYTES,
  maxUnacknowledgedBatches: WINDOW,
};

function batches(): OutgoingBatch[] {
  return Array.from({ length: RECORDS / PER_BATCH }, (_, b) => ({
    records: Array.from({ length: PER_BATCH }, (_, i): WireRecord => {
      const value = new Uint8Array(RECORD_BYTES).fill((b + i) % 256);
      return { key: null, value, format: ValueFormat.Bytes, headers: [], timestamp: Date.now() };
    }),
    producer: { producerId: "quick", producerEpoch: 1, sequence: b },
  }));
}

const perSecond = (n: number, ms: number) => Math.round((n * 1000) / ms);

describe("quick figures (not a benchmark)", () => {
  it("acknowledges all 20,000 records of one producer sending batches of 100", async () => {
    expect((await postJson(`${broker().url}/v1/topics`, { name: TOPIC })).status).toBe(201);
    const c = await Connection.open(broker().url, TOPIC, 0);
    const toSend = batches();
    const start = performance.now();
    const result = await pipeline(c, toSend, WINDOW);
    const ms = performance.now() - start;
    await c.close();
    expect(result.failure).toBeNull();
    expect(result.acks.reduce((n, a) => n + (a?.count ?? 0), 0)).toBe(RECORDS);
    expect(result.acks.at(-1)).toMatchObject({ baseOffset: RECORDS - PER_BATCH });
    figures.produceMs = Math.round(ms);
    figures.ackedRecordsPerSecond = perSecond(RECORDS, ms);
  });

  it("delivers all 20,000 records to a new subscriber from the earliest offset", async () => {
    const c = await Connection.open(broker().url, TOPIC, 0);
    const start = performance.now();
    const sub = await c.subscribe({ from: StartFrom.Earliest, credit: 4 * 1_048_576 });
    await sub.waitForOffset(RECORDS, 60_000);
    const ms = performance.now() - start;
    await c.close();
    expect(sub.records.length).toBe(RECORDS);
    expect(sub.offsets().every((o, i) => o === i)).toBe(true);
    figures.catchUpMs = Math.round(ms);
    figures.catchUpRecordsPerSecond = perSecond(RECORDS, ms);
    figures.catchUpFrames = sub.frames;
  });

  it("records the figures", () => {
    console.log(`quick figures: ${JSON.stringify(figures, null, 2)}`);
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(`${RESULTS}quick-figures.json`, `${JSON.stringify(figures, null, 2)}\n`);
    expect(figures).toHaveProperty("ackedRecordsPerSecond");
    expect(figures).toHaveProperty("catchUpRecordsPerSecond");
  });
});
