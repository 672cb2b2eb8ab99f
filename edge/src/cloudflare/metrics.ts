/**
 * The broker's own metrics, published as a stream (the dashboard subscribes to it like any
 * app): while a partition is active, about once a second it appends its counters to the
 * system topic `__metrics`. An idle partition publishes nothing and sets no timer, so it can
 * still hibernate.
 */
import { encodeBatch, ValueFormat } from "@kaiten/protocol";
import type { PartitionGauges } from "../core/partition.ts";
import type { PartitionStats, StatsSnapshot } from "../core/stats.ts";
import { isSystemTopic, METRICS_CONFIG, METRICS_TOPIC } from "../core/system-topics.ts";
import { type Env, partitionStub, registry } from "./env.ts";
import { SYSTEM } from "./topic-registry.ts";

export type { PartitionGauges };
export { isSystemTopic, METRICS_CONFIG, METRICS_TOPIC };

/** How often an active partition publishes. */
export const METRICS_INTERVAL_MS = 1_000;

/** One record of `__metrics` (docs/PROTOCOL.md §14). */
export interface MetricsRecord extends StatsSnapshot, PartitionGauges {
  topic: string;
  partition: number;
  at: number;
}

const utf8 = new TextEncoder();

export class MetricsPublisher {
  private scheduled = false;
  private registered = false;

  constructor(
    private readonly env: Env,
    private readonly stats: PartitionStats,
    private readonly identity: () => { topic: string; partition: number } | null,
    private readonly gauges: () => PartitionGauges,
  ) {}

  /** Called on activity; publishes within a second, once. */
  schedule(): void {
    if (this.scheduled) return;
    const id = this.identity();
    if (!id || isSystemTopic(id.topic)) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      this.publish(id).catch((error) => console.error("[kaiten:metrics] publish failed", error));
    }, METRICS_INTERVAL_MS);
  }

  private async publish(id: { topic: string; partition: number }): Promise<void> {
    const record: MetricsRecord = { ...id, at: Date.now(), ...this.stats.take(), ...this.gauges() };
    await appendMetrics(this.env, `${id.topic}/${id.partition}`, record, !this.registered);
    this.registered = true;
  }
}

/** Appends one JSON record to `__metrics` (creating the topic first when `ensure` is set). */
export async function appendMetrics(
  env: Env,
  key: string,
  record: { at: number },
  ensure: boolean,
) {
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
  if (ensure) await registry(env).ensure(METRICS_TOPIC, METRICS_CONFIG, SYSTEM);
  const ref = { topic: METRICS_TOPIC, partition: 0, config: METRICS_CONFIG };
  const result = await partitionStub(env, METRICS_TOPIC, 0).append({
    ...ref,
    batch,
    producerId: "",
    producerEpoch: 0,
    sequence: 0,
  });
  if (!result.ok) console.error("[kaiten:metrics] append refused", result.error);
}
