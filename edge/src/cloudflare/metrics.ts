/**
 * The broker's own metrics on Cloudflare: the core's publisher (core/metrics.ts) appending
 * through the registry and partition Durable Objects, whose RPC methods have the port's
 * signatures.
 */
import { type AppendMetrics, metricsAppender } from "../core/metrics.ts";
import type { Env } from "./env.ts";
import { cloudflarePort } from "./port.ts";

/** Appends `__metrics` records through this deployment's Durable Objects. */
export function cloudflareMetrics(env: Env): AppendMetrics {
  return metricsAppender(cloudflarePort(env), console.error);
}
