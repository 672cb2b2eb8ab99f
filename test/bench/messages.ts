/** Messages between the bench and its load generator processes (over node:child_process IPC). */
import type { HistogramData } from "./histogram.ts";

export interface ProduceTask {
  role: "produce";
  url: string;
  topic: string;
  /** Records per partition; one socket per partition, all pipelined at once. */
  partitions: number;
  records: number;
  batch: number;
  valueBytes: number;
  windowRecords: number;
  /** Index of this producer: its id, and its keys when `keyed`. */
  producer: number;
  keyed: boolean;
  idempotent: boolean;
  /** Through @kaiten/client (one partition, unkeyed) instead of the lean client. Default: false */
  sdk?: boolean;
}

export interface RateTask {
  role: "rate";
  url: string;
  topic: string;
  rate: number;
  durationMs: number;
  batch: number;
  valueBytes: number;
}

export interface SubscribeTask {
  role: "subscribe";
  url: string;
  topic: string;
  /** Partitions 0..partitions-1, `perPartition` subscribers on each. */
  partitions: number;
  perPartition: number;
  /** Records each subscriber of a partition must get, by partition. */
  expected: number[];
  from: "earliest" | "latest";
  latency: boolean;
  creditWindow: number;
  /** Check that record n sits at offset n (a single producer on a fresh partition). */
  checkRecordNumbers: boolean;
  timeoutMs: number;
  /** Through @kaiten/client instead of the lean client. Default: false */
  sdk?: boolean;
}

export interface IdleTask {
  role: "idle";
  url: string;
  topic: string;
  connections: number;
}

export interface ResumeTask {
  role: "resume";
  url: string;
  topic: string;
  records: number;
  batch: number;
  valueBytes: number;
  timeoutMs: number;
}

export type Task = ProduceTask | RateTask | SubscribeTask | IdleTask | ResumeTask;

export interface ProduceResult {
  acked: number;
  /** CPU milliseconds the load generator used while timed (added by loadgen.ts). */
  cpuMs?: number;
  startAt: number;
  endAt: number;
  messages: number;
}

/** Event-loop delay of a load generator while timed, ms (added by loadgen.ts). */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Garbage-collection pauses of a load generator while timed, ms (added by loadgen.ts). */
export interface GcPauses {
  count: number;
  total: number;
  max: number;
}

export interface SubscribeResult {
  subscribers: number;
  loopDelayMs?: LoopDelay;
  gcMs?: GcPauses;
  /** The longest event-loop stalls while timed: [ms after the start, ms late] (added by loadgen.ts). */
  stalls?: Array<[number, number]>;
  /** CPU milliseconds the load generator used while timed (added by loadgen.ts). */
  cpuMs?: number;
  records: number;
  lost: number;
  duplicates: number;
  mismatched: number;
  /** Subscribers that did not get all they expected before the timeout. */
  incomplete: number;
  startAt: number;
  firstAt: number;
  lastAt: number;
  messages: number;
  histogram: HistogramData;
  /** The same for records sent past the first STEADY_AFTER_MS of the timed part (warm-up). */
  steadyHistogram?: HistogramData;
}

export interface ResumeResult {
  records: number;
  gaps: number;
  duplicates: number;
  mismatched: number;
  resumedAt: number;
}

/** `run` prepares (connects, encodes) and answers `ready`; `go` starts the timed part. */
export type ToChild = { kind: "run"; task: Task } | { kind: "go" };
export type FromChild =
  | { kind: "ready"; detail?: unknown }
  | { kind: "result"; result: unknown }
  | { kind: "error"; message: string };
