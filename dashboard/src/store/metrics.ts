/**
 * Feeds the store from the broker's `__metrics` stream (docs/PROTOCOL.md §14) through the
 * SDK, like any app would: no polling of partitions. It reads the last HISTORY_S seconds back
 * when it starts, so the charts have a past the moment the page opens, then stays live.
 */
import type { Client, Positions, Rec, SubscribeOptions, Subscription } from "@kaiten/client";
import { type Api, ApiError, topicPath } from "./api.ts";
import { perFrame, sleep } from "./frame.ts";
import type { GroupMetrics } from "./groups.ts";
import {
  activeWindowMs,
  BIN,
  BOUT,
  Buckets,
  HISTORY_S,
  type MetricsValue,
  RIN,
  ROUT,
  secondsEndingAt,
} from "./series.ts";
import {
  type DashboardStore,
  type MetricsState,
  type PartitionNow,
  patch,
  type Throughput,
  type TopicDetail,
  type TopicNow,
} from "./state.ts";

export const METRICS_TOPIC = "__metrics";
/** The broker's own config for `__metrics` (edge metrics.ts METRICS_CONFIG). */
const METRICS_CONFIG = { partitions: 1, retentionMs: 3_600_000, retentionBytes: 64 * 1024 * 1024 };
/** A partition silent for this long is idle: its rates are 0 (it publishes about every second). */
const QUIET_MS = 2_500;
/**
 * Charts end this many seconds ago: second s keeps receiving counts until the records whose
 * windows cover it have been published, about a second after it ends.
 */
const SETTLE_S = 2;

export function startMetrics(
  store: DashboardStore,
  client: Client,
  api: Api,
  on: {
    /** A topic published for the first time since the page opened. */
    newTopic: (topic: string) => void;
    /** A consumer group's record (PROTOCOL.md §14). */
    group: (v: GroupMetrics) => void;
  },
): () => void {
  const total = new Buckets();
  const byTopic = new Map<string, Buckets>();
  const latest = new Map<string, MetricsValue>();
  let stopped = false;
  let sub: Subscription<MetricsValue> | undefined;
  /** The offset the history ends at: once it is read, the feed is live. */
  let historyEnd = 0;
  let resume: Positions | undefined;

  const publish = perFrame(() => {
    if (!stopped) patch(store, "metrics", snapshot(latest, total, byTopic, Date.now()));
  });
  // Charts slide and idle partitions' rates fall to 0 even when no record arrives.
  const ticker = setInterval(publish, 1_000);

  function take(rec: Rec<MetricsValue>): void {
    const v = rec.value;
    if (!v || typeof v !== "object" || !(v.at > 0)) return;
    if (typeof (v as unknown as GroupMetrics).group === "string") {
      on.group(v as unknown as GroupMetrics);
      if (rec.offset + 1 >= historyEnd) goLive();
      return;
    }
    if (typeof v.topic !== "string") return;
    const key = `${v.topic}/${v.partition}`;
    const prev = latest.get(key);
    if (!prev || prev.at <= v.at) latest.set(key, v);
    total.add(v);
    let buckets = byTopic.get(v.topic);
    if (!buckets) {
      buckets = new Buckets();
      byTopic.set(v.topic, buckets);
      on.newTopic(v.topic);
    }
    buckets.add(v);
    if (rec.offset + 1 >= historyEnd) goLive();
    publish();
  }

  function goLive(): void {
    if (store.getState().metrics.phase !== "live") patch(store, "metrics", { phase: "live" });
  }

  async function run(): Promise<void> {
    for (let attempt = 0; !stopped; attempt++) {
      try {
        historyEnd = await ensureTopic(api);
        break;
      } catch (error) {
        patch(store, "metrics", { error: (error as Error).message });
        await sleep(Math.min(5_000, 500 * 2 ** attempt));
      }
    }
    if (stopped) return;
    patch(store, "metrics", { phase: "loading", error: null });
    // Started over after an error: carry on from where the last subscription stopped (the SDK
    // reports a recreated log as a reset), so no record is counted twice.
    const from: SubscribeOptions["from"] = resume
      ? { positions: resume }
      : { timestamp: Date.now() - HISTORY_S * 1_000 };
    sub = client.subscribe<MetricsValue>(METRICS_TOPIC, { from }, take);
    // The SDK does not say where a subscription starts; its position before the first record
    // does. Nothing to read back (no history) means live at once.
    sub.ready().then(() => {
      if ((sub?.positions()[0]?.offset ?? 0) >= historyEnd) goLive();
    }, noop);
    const ended = await sub.closed;
    if (stopped) return;
    if (Object.keys(sub.positions()).length) resume = sub.positions();
    // A deleted `__metrics` or a refused subscription: say so, then start over.
    patch(store, "metrics", { error: `metrics stream ended: ${ended?.message ?? "closed"}` });
    await sleep(2_000);
    run();
  }

  run();
  return () => {
    stopped = true;
    clearInterval(ticker);
    sub?.close();
  };
}

const noop = () => {};

/**
 * Makes sure `__metrics` exists and returns its high watermark. On a fresh broker no partition
 * has published yet, and the SDK's lookup would auto-create the topic with the default config
 * (7 days) instead of the broker's (1 hour), or fail with auto-create off; so create it as the
 * broker would.
 */
async function ensureTopic(api: Api): Promise<number> {
  try {
    const d = await api.get<TopicDetail>(topicPath(METRICS_TOPIC));
    return d.partitions[0]?.highWatermark ?? 0;
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "UNKNOWN_TOPIC") throw error;
    await api.post("/v1/topics", { name: METRICS_TOPIC, ...METRICS_CONFIG });
    return 0;
  }
}

const newTopic = (name: string): TopicNow => ({
  name,
  partitionsSeen: 0,
  subscribers: 0,
  highWatermark: 0,
  storedBytes: 0,
  recordsIn: 0,
  recordsOut: 0,
  bytesIn: 0,
  bytesOut: 0,
});

/** Rates of a partition's latest record, or zeros once it has gone quiet. */
function ratesOf(v: MetricsValue, now: number) {
  if (now - v.at > QUIET_MS) return { recordsIn: 0, recordsOut: 0, bytesIn: 0, bytesOut: 0 };
  const perSecond = 1_000 / activeWindowMs(v);
  return {
    recordsIn: v.recordsIn * perSecond,
    recordsOut: v.recordsOut * perSecond,
    bytesIn: v.bytesIn * perSecond,
    bytesOut: v.bytesOut * perSecond,
  };
}

export function snapshot(
  latest: Map<string, MetricsValue>,
  total: Buckets,
  byTopic: Map<string, Buckets>,
  now: number,
): Omit<MetricsState, "phase" | "error"> {
  const partitions: Record<string, PartitionNow> = {};
  const topics: Record<string, TopicNow> = {};
  const totals = {
    recordsIn: 0,
    recordsOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    subscribers: 0,
    partitions: 0,
    storedBytes: 0,
  };
  for (const [key, v] of latest) {
    const rates = ratesOf(v, now);
    partitions[key] = { topic: v.topic, partition: v.partition, last: v, ...rates };
    const t = topics[v.topic] ?? newTopic(v.topic);
    topics[v.topic] = t;
    for (const target of [t, totals]) {
      target.recordsIn += rates.recordsIn;
      target.recordsOut += rates.recordsOut;
      target.bytesIn += rates.bytesIn;
      target.bytesOut += rates.bytesOut;
      target.subscribers += v.subscribers;
      target.storedBytes += v.storedBytes;
    }
    t.partitionsSeen++;
    t.highWatermark += v.highWatermark;
    totals.partitions++;
  }
  const end = Math.floor(now / 1_000) - SETTLE_S;
  const charts = {
    x: secondsEndingAt(end),
    total: throughput(total, end),
    byTopic: {} as MetricsState["charts"]["byTopic"],
    latency: {} as MetricsState["charts"]["latency"],
  };
  for (const [topic, b] of byTopic) {
    charts.byTopic[topic] = throughput(b, end);
    charts.latency[topic] = b.latency(end);
  }
  return { partitions, topics, totals, charts: trimmed(charts) };
}

function throughput(b: Buckets, end: number): Throughput {
  return {
    recordsIn: b.read(RIN, end),
    recordsOut: b.read(ROUT, end),
    bytesIn: b.read(BIN, end),
    bytesOut: b.read(BOUT, end),
  };
}

/** The shortest span charts show, in seconds. */
const MIN_SPAN_S = 60;

/**
 * Charts start at the first second with traffic (but span at least a minute): a broker that
 * started a moment ago shows its few seconds across the chart, not squeezed at the right edge.
 */
function trimmed(c: MetricsState["charts"]): MetricsState["charts"] {
  const t = c.total;
  let first = c.x.findIndex((_, i) => (t.recordsIn[i] ?? 0) > 0 || (t.recordsOut[i] ?? 0) > 0);
  if (first < 0) first = c.x.length;
  const from = Math.max(0, Math.min(first, c.x.length - MIN_SPAN_S));
  if (from === 0) return c;
  const cut = <T>(a: T[]) => a.slice(from);
  const cutAll = (t: Throughput): Throughput => ({
    recordsIn: cut(t.recordsIn),
    recordsOut: cut(t.recordsOut),
    bytesIn: cut(t.bytesIn),
    bytesOut: cut(t.bytesOut),
  });
  const map = <V>(o: Record<string, V>, f: (v: V) => V) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  return {
    x: cut(c.x),
    total: cutAll(t),
    byTopic: map(c.byTopic, cutAll),
    latency: map(c.latency, (v) => ({ deliver: cut(v.deliver), commit: cut(v.commit) })),
  };
}
