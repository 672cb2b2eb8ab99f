/** What a partition's owner is told with every call: who it is and its topic's config. */
import type { PartitionRef } from "./port.ts";
import type { Topic } from "./topic-store.ts";
import type { TopicConfig } from "./types.ts";

export function refOf(t: Topic, partition: number): PartitionRef {
  return { topic: t.name, partition, config: configOf(t) };
}

export function configOf(t: Topic): TopicConfig {
  return {
    partitions: t.partitions,
    retentionMs: t.retentionMs,
    retentionBytes: t.retentionBytes,
    maxRecordBytes: t.maxRecordBytes,
  };
}
