/**
 * The broker's own metrics, published as a stream (the dashboard subscribes to it like any
 * app): while a partition is active, about once a second it appends its counters to the
 * system topic `__metrics` (PROTOCOL.md §14). An idle partition publishes nothing and sets
 * no timer, so a Durable Object can still hibernate. Hosts inject the timers, the clock, the
 * logger and the way to reach the metrics partition.
 */
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import type { Timers } from "./commit-waiters.ts";
import type { PartitionGauges } from "./partition.ts";
import type { PartitionPort, RegistryPort } from "./port.ts";
import { SYSTEM } from "./registry.ts";
import type { PartitionStats, StatsSnapshot } from "./stats.ts";
import { isSystemTopic, METRICS_CONFIG, METRICS_TOPIC } from "./system-topics.ts";
import type { Log } from "./types.ts";

/** How often an active partition (or group) publishes. */
export const METRICS_INTERVAL_MS = 1_000;

/** One partition's record of `__metrics` (docs/PROTOCOL.md §14). */
export interface MetricsRecord extends StatsSnapshot, PartitionGauges {
  topic: string;
  partition: number;
  at: number;
}

/** Appends one JSON record to `__metrics` under `key` (creating the topic first when `ensure`). */
export type AppendMetrics = (key: string, record: { at: number }, ensure: boolean) => Promise<void>;

/** What appending metrics needs of a broker: a BrokerPort has it. */
export interface MetricsBroker {
  registry(): Pick<RegistryPort, "ensure">;
  partition(topic: string, partition: number): Pick<PartitionPort, "append">;
}

const utf8 = new TextEncoder();

/** AppendMetrics through a broker's registry and the metrics topic's one partition. */
export function metricsAppender(broker: MetricsBroker, log: Log): AppendMetrics {
  return async (key, record, ensure) => {
    const batch = encodeBatch([
      {
        key: utf8.encode(key),
        value: utf8.encode(JSON.stringify(record)),
        format: ValueFormat.Json,
        headers: [],
        timestamp: record.at,
      },
    ]);
    // The topic must exist for subscribers to find it, auto-create on or off.
    if (ensure) await broker.registry().ensure(METRICS_TOPIC, METRICS_CONFIG, SYSTEM);
    const ref = { topic: METRICS_TOPIC, partition: 0, config: METRICS_CONFIG };
    const result = await broker
      .partition(METRICS_TOPIC, 0)
      .append({ ...ref, batch, producerId: "", producerEpoch: 0, sequence: 0 });
    if (!result.ok) log("[kaiten:metrics] append refused", result.error);
  };
}

export interface MetricsPublisherDeps {
  append: AppendMetrics;
  timers: Timers;
  now: () => number;
  log: Log;
  stats: PartitionStats;
  /** Which partition this is; null until the host is told (nothing is published before). */
  identity: () => { topic: string; partition: number } | null;
  gauges: () => PartitionGauges;
}

export class MetricsPublisher {
  private scheduled = false;
  private registered = false;
  private stopped = false;

  constructor(private readonly deps: MetricsPublisherDeps) {}

  /** No publication is waiting for its timer (what it would publish is counted only here). */
  get idle(): boolean {
    return !this.scheduled;
  }

  /** Its partition closed: a publication still waiting for its timer does not happen. */
  stop(): void {
    this.stopped = true;
  }

  /** Called on activity; publishes within a second, once. */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    const id = this.deps.identity();
    if (!id || isSystemTopic(id.topic)) return;
    this.scheduled = true;
    this.deps.timers.set(() => {
      this.scheduled = false;
      if (this.stopped) return;
      this.publish(id).catch((error) => this.deps.log("[kaiten:metrics] publish failed", error));
    }, METRICS_INTERVAL_MS);
  }

  private async publish(id: { topic: string; partition: number }): Promise<void> {
    const { stats, gauges, now } = this.deps;
    const record: MetricsRecord = { ...id, at: now(), ...stats.take(), ...gauges() };
    await this.deps.append(`${id.topic}/${id.partition}`, record, !this.registered);
    this.registered = true;
  }
}
