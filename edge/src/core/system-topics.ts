/** The broker's own topics (`__…`), the same on every host (docs/PROTOCOL.md §14). */
import type { TopicConfig } from "./types.ts";

export const METRICS_TOPIC = "__metrics";
/** `__metrics` keeps an hour, at most 64 MiB: enough history for a dashboard that just opened. */
export const METRICS_CONFIG: TopicConfig = {
  partitions: 1,
  retentionMs: 3_600_000,
  retentionBytes: 64 * 1024 * 1024,
  maxRecordBytes: 1_000_000,
};

/** Topics named `__…` are the broker's own; they publish no metrics about themselves. */
export function isSystemTopic(name: string): boolean {
  return name.startsWith("__");
}
