/**
 * The dashboard's whole state, in one zustand vanilla store (STYLE.md habit 11). The store/
 * modules feed it from the SDK and the HTTP API; React components only read it and call
 * actions. Nothing here imports React.
 */
import { createStore, type StoreApi } from "zustand/vanilla";
import { type AuthState, initialAuth } from "./auth.ts";
import type { MetricsValue } from "./series.ts";

export type Page = "overview" | "topics" | "topic" | "tail" | "produce" | "notfound";

export interface Route {
  page: Page;
  /** The topic of a topic page. */
  topic?: string;
  /** Query parameters, such as the tail's `?topic=`. */
  query: Record<string, string>;
}

/** Rates derived from a partition's latest `__metrics` record: per second, 0 once it went quiet. */
export interface Rates {
  recordsIn: number;
  recordsOut: number;
  bytesIn: number;
  bytesOut: number;
}

export interface PartitionNow extends Rates {
  topic: string;
  partition: number;
  /** The latest record as published; its gauges stay true while the partition is idle. */
  last: MetricsValue;
}

export interface TopicNow extends Rates {
  name: string;
  /** Partitions seen in the metrics history (idle ones publish nothing). */
  partitionsSeen: number;
  subscribers: number;
  highWatermark: number;
  storedBytes: number;
}

export interface Totals extends Rates {
  subscribers: number;
  partitions: number;
  storedBytes: number;
}

/** Per-second series of one scope (all topics, or one), aligned with `Charts.x`. */
export type Throughput = Record<keyof Rates, number[]>;

/** Chart data, oldest first, one point per second (uPlot's aligned arrays). */
export interface Charts {
  x: number[];
  total: Throughput;
  byTopic: Record<string, Throughput>;
  latency: Record<string, { deliver: (number | null)[]; commit: (number | null)[] }>;
}

export interface MetricsState {
  /** connecting: `__metrics` not subscribed yet; loading: reading its history; live: caught up. */
  phase: "connecting" | "loading" | "live";
  partitions: Record<string, PartitionNow>;
  topics: Record<string, TopicNow>;
  totals: Totals;
  charts: Charts;
  error: string | null;
}

/** A topic's config as `GET /v1/topics` lists it (PROTOCOL.md §11.1). */
export interface TopicConfig {
  name: string;
  partitions: number;
  retentionMs: number;
  retentionBytes: number;
  maxRecordBytes: number;
  createdAt: number;
}

/** `GET /v1/topics/{t}`. */
export interface TopicDetail {
  name: string;
  partitionCount: number;
  retentionMs: number;
  retentionBytes: number;
  maxRecordBytes: number;
  createdAt: number;
  partitions: Array<{
    partition: number;
    earliestOffset: number;
    highWatermark: number;
    epoch: number;
    subscribers: number;
  }>;
}

export interface TopicsState {
  list: TopicConfig[] | null;
  loading: boolean;
  error: string | null;
  details: Record<string, TopicDetail>;
  /** Show `__…` topics (the broker's own) in the table. Default: false */
  showSystem: boolean;
}

export interface ConnectionState {
  /** The SDK's combined socket state. */
  state: "connecting" | "open" | "reconnecting" | "closed";
  attempt: number;
  /** When the SDK tries next, as a time (ms), while reconnecting. */
  retryAt: number;
  error: string | null;
  /** The broker cannot be reached (sockets down, or an HTTP request failed to connect). */
  unreachable: boolean;
  /** When the broker came back after being unreachable (ms), for a short "reconnected" note. */
  recoveredAt: number | null;
  url: string;
}

export type StartFrom = "latest" | "earliest" | "offset" | "time";

export interface TailOptions {
  topic: string;
  /** null: every partition. */
  partition: number | null;
  /** "" for every key. */
  key: string;
  from: StartFrom;
  /** For `from: "offset"`: the offset in each partition read. */
  offset: number;
  /** For `from: "time"`: ms since the Unix epoch. */
  time: number;
}

export interface TailRecord {
  id: string;
  partition: number;
  offset: number;
  key: string | null;
  timestamp: number;
  /** Pretty-printed once, when it enters the window. */
  value: string;
  headers: Array<[string, string]>;
}

export interface TailState {
  options: TailOptions | null;
  status: "idle" | "starting" | "live" | "paused" | "ended";
  /** Newest first, at most TAIL_WINDOW. */
  records: TailRecord[];
  /** Records taken since the tail started. */
  received: number;
  /** Records per second over the last second or so. */
  rate: number;
  error: string | null;
}

export interface ProduceResult {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  at: number;
}

export interface ProduceState {
  sending: boolean;
  results: ProduceResult[];
  error: string | null;
}

/** A consumer group as `GET /v1/groups/{g}` describes it (PROTOCOL.md §16.5). */
export interface GroupDetail {
  name: string;
  generation: number;
  state: "active" | "empty";
  members: Array<{
    id: string;
    instanceId: string | null;
    topics: string[];
    partitions: Array<{ topic: string; partition: number }>;
  }>;
  offsets: Array<{
    topic: string;
    partition: number;
    member: string | null;
    committed: number | null;
    highWatermark: number | null;
    lag: number | null;
  }>;
  totalLag: number;
}

export interface GroupsState {
  /** null until first loaded. */
  list: GroupDetail[] | null;
  error: string | null;
}

export interface DashboardState {
  route: Route;
  auth: AuthState;
  connection: ConnectionState;
  metrics: MetricsState;
  topics: TopicsState;
  groups: GroupsState;
  tail: TailState;
  produce: ProduceState;
}

export type DashboardStore = StoreApi<DashboardState>;

const noRates: Rates = { recordsIn: 0, recordsOut: 0, bytesIn: 0, bytesOut: 0 };

export function initialState(url: string, route: Route): DashboardState {
  return {
    route,
    auth: initialAuth,
    connection: {
      state: "connecting",
      attempt: 0,
      retryAt: 0,
      error: null,
      unreachable: false,
      recoveredAt: null,
      url,
    },
    metrics: {
      phase: "connecting",
      partitions: {},
      topics: {},
      totals: { ...noRates, subscribers: 0, partitions: 0, storedBytes: 0 },
      charts: {
        x: [],
        total: { recordsIn: [], recordsOut: [], bytesIn: [], bytesOut: [] },
        byTopic: {},
        latency: {},
      },
      error: null,
    },
    topics: { list: null, loading: false, error: null, details: {}, showSystem: false },
    groups: { list: null, error: null },
    tail: { options: null, status: "idle", records: [], received: 0, rate: 0, error: null },
    produce: { sending: false, results: [], error: null },
  };
}

export function createDashboardStore(url: string, route: Route): DashboardStore {
  return createStore<DashboardState>()(() => initialState(url, route));
}

/** Replaces one slice of the state with a shallow update of it. */
export function patch<K extends keyof DashboardState>(
  store: DashboardStore,
  key: K,
  update: Partial<DashboardState[K]>,
): void {
  store.setState({ [key]: { ...store.getState()[key], ...update } } as Partial<DashboardState>);
}
