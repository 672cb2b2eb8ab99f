/**
 * Load-generator jobs that go through @kaiten/client itself, as an application would, beside
 * the lean client's (lean-client.ts): the distance between the two is what the SDK costs.
 * Values are the same 200-byte stamped bytes (send time, record number), so the same checks
 * and latency histogram apply. With BENCH_SDK_PROFILE_DIR set, each SDK job takes a CPU
 * profile of its own process while it is timed, and prints where the time went.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import WebSocket from "ws";
import {
  type Client,
  createClient,
  type ProduceRecord,
  type Rec,
  type SubscribeOptions,
  type Subscription,
} from "../../client-sdk/src/index.ts";
import { Histogram } from "./histogram.ts";
import { now, range, STAMP_BYTES } from "./lean-client.ts";
import type { ProduceResult, ProduceTask, SubscribeResult, SubscribeTask } from "./messages.ts";
import { type CpuProfile, summarize as selfTime } from "./profiler.ts";

export interface Job {
  prepare(): Promise<void>;
  go(): Promise<unknown>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * The SDK's client. Its one metadata lookup (GET /v1/topics/{t}) goes to the broker over a
 * connection closed after the answer (node:http, no agent): through Node's fetch, W2's 200
 * clients in one process would leave 200 idle keep-alive sockets that undici closes 4 s
 * later, all at once, inside the timed part (25-50 ms of the event loop, in profiles), where
 * 200 browsers would each close their own. A host without the HTTP API (a `node-base`
 * checkout from before the Node host served it) gets the topic's known partition count
 * instead, so that the SDK's WebSocket paths can be measured there too.
 */
const sdkClient = (url: string, partitions: number): Client =>
  createClient({
    url,
    WebSocket: WebSocket as never,
    idempotent: true,
    fetch: async (input, init) => {
      const res = await get(String(input), (init?.headers ?? {}) as Record<string, string>);
      if (res.status !== 404 || !String(input).includes("/v1/topics/")) return res;
      return Response.json({ partitionCount: partitions, maxRecordBytes: 1_000_000 });
    },
  });

/** GET over a connection of its own, closed after the answer. */
function get(url: string, headers: Record<string, string>): Promise<Response> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers, agent: false }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (b: Buffer) => parts.push(b));
      res.on("end", () => {
        const type = res.headers["content-type"] ?? "application/json";
        resolve(
          new Response(Buffer.concat(parts), {
            status: res.statusCode ?? 500,
            headers: { "content-type": type },
          }),
        );
      });
      res.on("error", reject);
    }).on("error", reject);
  });
}

/** A 200-byte value stamped like benchRecords' (send time, record number; float64 LE). */
function stamped(no: number, valueBytes: number, sentAt: number): Uint8Array {
  const value = new Uint8Array(Math.max(valueBytes, STAMP_BYTES)).fill(0x61);
  const view = new DataView(value.buffer);
  view.setFloat64(0, sentAt, true);
  view.setFloat64(8, no, true);
  return value;
}

/**
 * W1 through the SDK: `produce` calls of `batch` records, at most `windowRecords` records
 * unacknowledged, the next call made as one resolves. The SDK batches them as it likes.
 */
export function sdkProduceJob(t: ProduceTask): Job {
  const client = sdkClient(t.url, t.partitions);
  let calls: ProduceRecord[][] = [];
  return {
    async prepare() {
      // Opens the socket and learns the topic (one record, not counted), as the lean client connects first.
      await client.produce(t.topic, [{ value: new Uint8Array(STAMP_BYTES), partition: 0 }]);
      const sentAt = now();
      calls = range(Math.ceil(t.records / t.batch)).map((c) =>
        range(Math.min(t.batch, t.records - c * t.batch), c * t.batch).map((no) => ({
          value: stamped(no, t.valueBytes, sentAt),
          partition: 0,
        })),
      );
    },
    go: () =>
      profiledJob("w1-sdk-produce", async (): Promise<ProduceResult> => {
        const startAt = now();
        let next = 0;
        let outstanding = 0;
        let acked = 0;
        await new Promise<void>((resolve, reject) => {
          const pump = () => {
            while (next < calls.length) {
              const records = calls[next] as ProduceRecord[];
              if (outstanding > 0 && outstanding + records.length > t.windowRecords) return;
              next++;
              outstanding += records.length;
              client.produce(t.topic, records).then((acks) => {
                outstanding -= acks.length;
                acked += acks.length;
                if (acked === t.records) resolve();
                else pump();
              }, reject);
            }
          };
          pump();
        });
        const endAt = now();
        await client.close();
        return { acked, startAt, endAt, messages: 0 };
      }),
  };
}

/**
 * W2's latency is also reported for records sent after the first second of the timed part:
 * the subscribers' first second includes their code's warm-up (interpreted, then compiled),
 * which in one process receiving 400,000 records/s leaves a backlog behind it.
 */
export const STEADY_AFTER_MS = 1_000;

const stamp = new Float64Array(2);
const stampBytes = new Uint8Array(stamp.buffer);

/** What one SDK subscriber saw, checked record by record as the lean client checks. */
class Tally {
  records = 0;
  lost = 0;
  duplicates = 0;
  mismatched = 0;
  next = 0;
  firstAt = 0;
  lastAt = 0;
  steadyFrom = Number.POSITIVE_INFINITY;

  constructor(
    readonly histogram: Histogram | null,
    readonly checkNumbers: boolean,
    readonly steady: Histogram | null = null,
    /** Records this subscriber is to receive; without a histogram the clock is read at the last. */
    readonly expected = 0,
  ) {}

  take(rec: Rec<Uint8Array>): void {
    // The clock is read per record only for latency (W2). W3 needs the first and the last
    // record's times: the lean client reads it once per frame, and a read per record cost the
    // SDK's process 5-7% of its W3 profile (the SDK hands records over one at a time).
    const last = this.records + 1 >= this.expected;
    const at = this.histogram || last || this.records === 0 ? now() : this.lastAt;
    if (this.records === 0) this.firstAt = at;
    this.lastAt = at;
    const offset = rec.offset;
    if (offset < this.next) {
      this.duplicates++;
      return;
    }
    this.lost += offset - this.next;
    this.next = offset + 1;
    this.records++;
    const v = rec.value;
    if (v.length < STAMP_BYTES) return;
    // Read without allocating, as the lean client reads the frame in place (x86 is little-endian).
    for (let i = 0; i < STAMP_BYTES; i++) stampBytes[i] = v[i] as number;
    const sentAt = stamp[0] as number;
    this.histogram?.add(at - sentAt);
    if (sentAt >= this.steadyFrom) this.steady?.add(at - sentAt);
    if (this.checkNumbers && stamp[1] !== offset) this.mismatched++;
  }
}

/**
 * W2 and W3 through the SDK: one client and one subscription per subscriber, all in this
 * process; W2's live subscribers take records with a callback, W3's with `for await`.
 */
export function sdkSubscribeJob(t: SubscribeTask): Job {
  const count = t.partitions * t.perPartition;
  const histogram = t.latency ? new Histogram() : null;
  const steady = t.latency ? new Histogram() : null;
  const partitionOf = (i: number) => Math.floor(i / t.perPartition);
  const tallies = range(count).map(
    (i) => new Tally(histogram, t.checkRecordNumbers, steady, t.expected[partitionOf(i)] ?? 0),
  );
  const clients = range(count).map(() => sdkClient(t.url, t.partitions));
  const subs: Subscription<Uint8Array>[] = [];
  const start = (i: number) => {
    const o: SubscribeOptions = {
      from: t.from,
      partitions: [partitionOf(i)],
      creditBytes: t.creditWindow,
    };
    const tally = tallies[i] as Tally;
    const c = clients[i] as Client;
    if (t.from === "latest") {
      subs[i] = c.subscribe<Uint8Array>(t.topic, o, (r) => tally.take(r));
      return subs[i].ready();
    }
    const sub = c.subscribe<Uint8Array>(t.topic, o);
    subs[i] = sub;
    return (async () => {
      for await (const r of sub) tally.take(r);
    })().catch(() => {});
  };
  return {
    async prepare() {
      // Node loads and compiles its Response (undici) on first use, 50 ms or more of CPU: not
      // the SDK's to pay inside the timed part of a 200,000-record read.
      await (await get(`${t.url}/v1/topics`, {})).arrayBuffer();
      // Live subscribers must be in place before the producer starts.
      if (t.from === "latest") await Promise.all(range(count).map(start));
    },
    go: () =>
      profiledJob(`${t.from === "latest" ? "w2" : "w3"}-sdk-subscribe`, async () => {
        let startAt = now();
        for (const tally of tallies) tally.steadyFrom = startAt + STEADY_AFTER_MS;
        if (t.from === "earliest") {
          for (const i of range(count)) start(i);
          // The lean client's socket is open before its clock starts: the SDK's clock starts once
          // subscribed, after its metadata lookup and connect (printed, not counted).
          await Promise.all(subs.map((sub) => sub.ready()));
          const subscribedAt = now();
          console.log(`sdk subscribe → subscribed: ${(subscribedAt - startAt).toFixed(1)} ms`);
          startAt = subscribedAt;
        }
        const complete = (i: number) =>
          (tallies[i] as Tally).records >= (t.expected[partitionOf(i)] ?? 0);
        const deadline = now() + t.timeoutMs;
        while (!range(count).every(complete) && now() < deadline) await sleep(5);
        const result = summarize(tallies, complete, startAt, histogram, steady);
        await Promise.all(clients.map((c) => c.close()));
        return result;
      }),
  };
}

function summarize(
  tallies: Tally[],
  complete: (i: number) => boolean,
  startAt: number,
  histogram: Histogram | null,
  steady: Histogram | null,
): SubscribeResult {
  const sum = (f: (s: Tally) => number) => tallies.reduce((n, s) => n + f(s), 0);
  const got = tallies.filter((s) => s.records > 0);
  return {
    subscribers: tallies.length,
    records: sum((s) => s.records),
    lost: sum((s) => s.lost),
    duplicates: sum((s) => s.duplicates),
    mismatched: sum((s) => s.mismatched),
    incomplete: tallies.filter((_, i) => !complete(i)).length,
    startAt,
    firstAt: Math.min(...got.map((s) => s.firstAt)),
    lastAt: Math.max(...got.map((s) => s.lastAt)),
    // CREDIT and SUBSCRIBE frames are not counted through the SDK (the cost rows use the lean client's).
    messages: 0,
    histogram: (histogram ?? new Histogram()).toData(),
    steadyHistogram: (steady ?? new Histogram()).toData(),
  };
}

/**
 * Runs `fn` under this process's CPU profiler when BENCH_SDK_PROFILE_DIR is set; with
 * BENCH_SDK_HEAP_PROFILE=true, under V8's sampling heap profiler instead, counting what was
 * allocated whether or not it was collected since (what makes the garbage collector's work).
 */
async function profiledJob<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_SDK_PROFILE_DIR;
  if (!dir) return fn();
  const heap = process.env.BENCH_SDK_HEAP_PROFILE === "true";
  const session = new Session();
  session.connect();
  if (heap) {
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
  } else {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    await session.post("Profiler.start");
  }
  try {
    return await fn();
  } finally {
    mkdirSync(dir, { recursive: true });
    if (heap) {
      const { profile } = (await session.post("HeapProfiler.stopSampling")) as {
        profile: { head: HeapNode };
      };
      const file = join(dir, `${name}-${process.pid}.heapprofile`);
      writeFileSync(file, JSON.stringify(profile));
      console.log(
        `\nheap profile ${file}; bytes allocated by function:\n${allocated(profile.head)}`,
      );
    } else {
      const { profile } = (await session.post("Profiler.stop")) as { profile: CpuProfile };
      const file = join(dir, `${name}-${process.pid}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      const top = selfTime(profile, 25).join("\n");
      console.log(`\nprofile ${file}; self time in the SDK's process:\n${top}`);
    }
    session.disconnect();
  }
}

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

/** Bytes allocated per function (self), the largest first. */
function allocated(head: HeapNode, top = 20): string {
  const bytes = new Map<string, number>();
  let total = 0;
  const walk = (n: HeapNode) => {
    const f = n.callFrame;
    const key = `${f.functionName || "(anonymous)"} (${f.url.split("/").pop() || "native"}:${f.lineNumber + 1})`;
    bytes.set(key, (bytes.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children) walk(c);
  };
  walk(head);
  return [...bytes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([k, n]) =>
        `${((100 * n) / total).toFixed(1).padStart(5)}%  ${(n / 1048576).toFixed(1).padStart(7)} MiB  ${k}`,
    )
    .join("\n");
}
