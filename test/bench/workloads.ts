/**
 * The workloads W1-W6 of the issue, each run against one target with load generators in
 * processes of their own. Each returns plain figures; report.ts turns them into the table.
 */
import { LoadGen, runTogether } from "./children.ts";
import type { BenchConfig } from "./config.ts";
import { Histogram } from "./histogram.ts";
import type { ProduceResult, ResumeResult, SubscribeResult, Task } from "./messages.ts";
import { keyedTotals } from "./plans.ts";
import { type PartitionUsage, serverRss, type Target } from "./targets.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const perSecond = (n: number, ms: number) => Math.round((n * 1000) / ms);
let topics = 0;
const topicName = (w: string) => `bench-${w}-${Date.now()}-${topics++}`;

/** Rows written and commits on a topic's partitions, summed. */
async function usageOf(target: Target, topic: string) {
  const parts = await target.usage(topic);
  if (!parts) return null;
  const sum = (f: (p: PartitionUsage) => number) => parts.reduce((n, p) => n + f(p), 0);
  return { commits: sum((p) => p.commits), rowsWritten: sum((p) => p.rowsWritten) };
}

/** What the cost estimate needs from a workload run on Kaiten. */
export interface CostInputs {
  records: number;
  rowsWritten: number;
  commits: number;
  /** Messages clients sent to the partition objects (billed 20:1 as requests). */
  incomingMessages: number;
  /** Wall-clock seconds the partition object was busy. */
  activeSeconds: number;
}

/** CPU microseconds the load generators used per record produced or delivered. */
const cpuPerRecord = (results: Array<{ cpuMs?: number }>, records: number) =>
  (results.reduce((n, r) => n + (r.cpuMs ?? 0), 0) * 1000) / records;

export interface W1Result {
  ackedPerSecond: number;
  /** The producer's CPU per record, µs. */
  clientCpuUs: number;
  records: number;
  ms: number;
  cost: CostInputs | null;
}

export async function w1(target: Target, c: BenchConfig, sdk = false): Promise<W1Result> {
  const topic = topicName("w1");
  await target.createTopic(topic, 1);
  const before = await usageOf(target, topic);
  const [r] = await runTogether<ProduceResult>([
    {
      role: "produce",
      url: target.url,
      topic,
      partitions: 1,
      records: c.w1.records,
      batch: c.w1.batch,
      valueBytes: c.recordBytes,
      windowRecords: c.w1.window,
      producer: 0,
      keyed: false,
      idempotent: true,
      sdk,
    },
  ]);
  if (!r || r.acked !== c.w1.records) throw new Error(`W1: ${r?.acked} of ${c.w1.records} acked`);
  const ms = r.endAt - r.startAt;
  const after = await usageOf(target, topic);
  // The SDK's messages are not counted: the cost rows are the lean client's.
  const cost =
    before && after && !sdk
      ? {
          records: r.acked,
          rowsWritten: after.rowsWritten - before.rowsWritten,
          commits: after.commits - before.commits,
          incomingMessages: r.messages,
          activeSeconds: ms / 1000,
        }
      : null;
  return {
    ackedPerSecond: perSecond(r.acked, ms),
    clientCpuUs: cpuPerRecord([r], r.acked),
    records: r.acked,
    ms,
    cost,
  };
}

export interface W2Result {
  deliveredPerSecond: number;
  /** The subscribers' CPU per delivery, µs. */
  clientCpuUs: number;
  deliveries: number;
  expected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** p99 of records sent after the first second (the subscribers' warm-up). */
  p99SteadyMs: number;
  lost: number;
  duplicates: number;
  mismatched: number;
  /** The subscriber processes' worst event-loop delay and garbage-collection pause, ms. */
  clientLoopDelayMaxMs: number;
  clientGcMaxMs: number;
  /** Each subscriber process's longest event-loop stalls: [ms after the start, ms late]. */
  clientStalls: Array<Array<[number, number]>>;
  cost: CostInputs | null;
}

/**
 * With `sdk`, the subscribers go through @kaiten/client, all of them in one process; with
 * `processes`, the lean client's are spread over that many (default BENCH_W2_PROCESSES).
 */
export async function w2(
  target: Target,
  c: BenchConfig,
  sdk = false,
  processes = sdk ? 1 : c.w2.processes,
): Promise<W2Result> {
  const topic = topicName("w2");
  await target.createTopic(topic, 1);
  const records = Math.round((c.w2.rate * c.w2.durationMs) / 1000 / c.w2.batch) * c.w2.batch;
  const per = Math.ceil(c.w2.subscribers / processes);
  const subscribers: Task[] = Array.from({ length: processes }, (_, i) => ({
    role: "subscribe",
    url: target.url,
    topic,
    partitions: 1,
    perPartition: Math.min(per, c.w2.subscribers - i * per),
    expected: [records],
    from: "latest",
    latency: true,
    creditWindow: 4 * 1_048_576,
    checkRecordNumbers: true,
    timeoutMs: c.w2.durationMs + c.timeoutMs,
    sdk,
  }));
  const producer: Task = {
    role: "rate",
    url: target.url,
    topic,
    rate: c.w2.rate,
    durationMs: c.w2.durationMs,
    batch: c.w2.batch,
    valueBytes: c.recordBytes,
  };
  const before = await usageOf(target, topic);
  const results = await runTogether<ProduceResult | SubscribeResult>([...subscribers, producer]);
  const p = results.pop() as ProduceResult;
  const subs = results as SubscribeResult[];
  const after = await usageOf(target, topic);
  const histogram = new Histogram();
  const steady = new Histogram();
  for (const s of subs) {
    histogram.merge(s.histogram);
    if (s.steadyHistogram) steady.merge(s.steadyHistogram);
  }
  const deliveries = subs.reduce((n, s) => n + s.records, 0);
  const expected = records * c.w2.subscribers;
  const lastAt = Math.max(...subs.map((s) => s.lastAt));
  const subscriberMessages = subs.reduce((n, s) => n + s.messages, 0);
  return {
    deliveredPerSecond: perSecond(deliveries, lastAt - p.startAt),
    clientCpuUs: cpuPerRecord(subs, deliveries),
    deliveries,
    expected,
    p50Ms: histogram.quantile(0.5),
    p99Ms: histogram.quantile(0.99),
    maxMs: histogram.maxMs,
    p99SteadyMs: steady.quantile(0.99),
    lost: expected - deliveries,
    duplicates: subs.reduce((n, s) => n + s.duplicates, 0),
    mismatched: subs.reduce((n, s) => n + s.mismatched, 0),
    clientLoopDelayMaxMs: Math.max(...subs.map((s) => s.loopDelayMs?.max ?? 0)),
    clientGcMaxMs: Math.max(...subs.map((s) => s.gcMs?.max ?? 0)),
    clientStalls: subs.map((s) => s.stalls ?? []),
    cost:
      before && after && !sdk
        ? {
            records: p.acked,
            rowsWritten: after.rowsWritten - before.rowsWritten,
            commits: after.commits - before.commits,
            incomingMessages: p.messages + subscriberMessages,
            activeSeconds: (lastAt - p.startAt) / 1000,
          }
        : null,
  };
}

export interface W3Result {
  recordsPerSecond: number;
  /** The subscriber's CPU per record, µs. */
  clientCpuUs: number;
  records: number;
  ms: number;
  lost: number;
  duplicates: number;
}

export async function w3(target: Target, c: BenchConfig, sdk = false): Promise<W3Result> {
  const topic = topicName("w3");
  await target.createTopic(topic, 1);
  const [stored] = await runTogether<ProduceResult>([
    {
      role: "produce",
      url: target.url,
      topic,
      partitions: 1,
      records: c.w3.records,
      batch: c.w1.batch,
      valueBytes: c.recordBytes,
      windowRecords: 10 * c.w1.window,
      producer: 0,
      keyed: false,
      idempotent: true,
    },
  ]);
  if (stored?.acked !== c.w3.records) throw new Error("W3: storing the records failed");
  const [r] = await runTogether<SubscribeResult>([
    {
      role: "subscribe",
      url: target.url,
      topic,
      partitions: 1,
      perPartition: 1,
      expected: [c.w3.records],
      from: "earliest",
      latency: false,
      creditWindow: c.w3.credit,
      checkRecordNumbers: true,
      timeoutMs: c.timeoutMs,
      sdk,
    },
  ]);
  if (!r) throw new Error("W3: no result");
  const ms = r.lastAt - r.startAt;
  return {
    recordsPerSecond: perSecond(r.records, ms),
    clientCpuUs: cpuPerRecord([r], r.records),
    records: r.records,
    ms,
    lost: c.w3.records - r.records,
    duplicates: r.duplicates + r.mismatched,
  };
}

/** W1, W2 and W3 through @kaiten/client (Kaiten only: the relays have no HTTP API). */
export const w1sdk = (t: Target, c: BenchConfig) => w1(t, c, true);
export const w2sdk = (t: Target, c: BenchConfig) => w2(t, c, true);
export const w3sdk = (t: Target, c: BenchConfig) => w3(t, c, true);
/** W2 through the lean client with all 200 subscribers in one process: the SDK's W2 shape. */
export const w2one = (t: Target, c: BenchConfig) => w2(t, c, false, 1);
/** W2 through the SDK spread over BENCH_W2_PROCESSES processes, as the lean client's W2 (not by default). */
export const w2sdkspread = (t: Target, c: BenchConfig) => w2(t, c, true, c.w2.processes);

export async function w4(target: Target, c: BenchConfig): Promise<ResumeResult> {
  const topic = topicName("w4");
  await target.createTopic(topic, 1);
  const [r] = await runTogether<ResumeResult>([
    {
      role: "resume",
      url: target.url,
      topic,
      records: c.w4.records,
      batch: c.w1.batch,
      valueBytes: c.recordBytes,
      timeoutMs: c.timeoutMs,
    },
  ]);
  if (!r) throw new Error("W4: no result");
  return r;
}

export interface W5Result {
  connections: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  /** Growth of the server's RSS per idle subscriber. */
  kibPerConnection: number;
  /** The same for wrangler dev's proxy process, which holds its own end of every socket. */
  proxyKibPerConnection: number;
}

export async function w5(target: Target, c: BenchConfig): Promise<W5Result> {
  const topic = topicName("w5");
  await target.createTopic(topic, 1);
  // A first connection wakes the partition object, so its own cost is not counted per socket.
  await runTogether<unknown>([{ role: "idle", url: target.url, topic, connections: 1 }]);
  await sleep(1_000);
  const before = serverRss(target);
  const idle = await LoadGen.start<{ connections: number }>({
    role: "idle",
    url: target.url,
    topic,
    connections: c.w5.connections,
  });
  await sleep(2_000);
  const after = serverRss(target);
  await idle.go();
  const perConnection = (bytes: number) => bytes / 1024 / c.w5.connections;
  return {
    connections: c.w5.connections,
    rssBeforeBytes: before.server,
    rssAfterBytes: after.server,
    kibPerConnection: perConnection(after.server - before.server),
    proxyKibPerConnection: perConnection(after.proxy - before.proxy),
  };
}

export interface W6Result {
  inPerSecond: number;
  outPerSecond: number;
  records: number;
  delivered: number;
  lost: number;
  duplicates: number;
}

export async function w6(target: Target, c: BenchConfig): Promise<W6Result> {
  const { partitions, producers, records } = c.w6;
  const topic = topicName("w6");
  await target.createTopic(topic, partitions);
  const subscriber: Task = {
    role: "subscribe",
    url: target.url,
    topic,
    partitions,
    perPartition: 1,
    expected: keyedTotals(producers, records, partitions),
    from: "latest",
    latency: false,
    creditWindow: 4 * 1_048_576,
    checkRecordNumbers: false,
    timeoutMs: c.timeoutMs,
  };
  const produce: Task[] = Array.from({ length: producers }, (_, producer) => ({
    role: "produce",
    url: target.url,
    topic,
    partitions,
    records,
    batch: c.w1.batch,
    valueBytes: c.recordBytes,
    windowRecords: c.w1.window,
    producer,
    keyed: true,
    idempotent: true,
  }));
  const results = await runTogether<ProduceResult | SubscribeResult>([subscriber, ...produce]);
  const sub = results.shift() as SubscribeResult;
  const prods = results as ProduceResult[];
  const startAt = Math.min(...prods.map((p) => p.startAt));
  const acked = prods.reduce((n, p) => n + p.acked, 0);
  return {
    inPerSecond: perSecond(acked, Math.max(...prods.map((p) => p.endAt)) - startAt),
    outPerSecond: perSecond(sub.records, sub.lastAt - startAt),
    records: acked,
    delivered: sub.records,
    lost: producers * records - sub.records,
    duplicates: sub.duplicates,
  };
}
