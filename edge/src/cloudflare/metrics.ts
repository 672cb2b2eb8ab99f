/**
 * The broker's own metrics on Cloudflare: the core's publisher (core/metrics.ts) appending
 * through the registry and partition Durable Objects.
 */
import { type AppendMetrics, metricsAppender } from "../core/metrics.ts";
import type { PartitionPort, RegistryPort } from "../core/port.ts";
import { type Env, partitionStub, registry } from "./env.ts";

export { METRICS_INTERVAL_MS, type MetricsRecord } from "../core/metrics.ts";
export type { PartitionGauges } from "../core/partition.ts";
export { isSystemTopic, METRICS_CONFIG, METRICS_TOPIC } from "../core/system-topics.ts";

/** Appends `__metrics` records through this deployment's Durable Objects. */
export function cloudflareMetrics(env: Env): AppendMetrics {
  return metricsAppender(
    {
      // The stubs' RPC methods have the port's signatures (see core/port.ts).
      registry: () => registry(env) as unknown as Pick<RegistryPort, "ensure">,
      partition: (topic, partition) =>
        partitionStub(env, topic, partition) as unknown as Pick<PartitionPort, "append">,
    },
    console.error,
  );
}
