/**
 * Lag per partition of a consumer group: the high watermark minus the committed offset (or
 * minus the earliest retained offset when nothing is committed). Used by `GET /v1/groups/{g}`
 * and by the group's records in `__metrics` (PROTOCOL.md §14, §16).
 */
import { type BrokerPort, type GroupDescription, unwrap } from "../port.ts";
import { refOf } from "../topic-ref.ts";
import type { Topic } from "../topic-store.ts";

/** A topic by name, or null if unknown; a host may pass a cached lookup. */
export type TopicLookup = (name: string) => Promise<Topic | null>;

export async function groupLag(
  port: BrokerPort,
  d: GroupDescription,
  topicOf: TopicLookup = (name) => port.registry().get(name),
) {
  const offsets = await Promise.all(
    d.partitions.map(async (p) => {
      const topic = await topicOf(p.topic).catch(() => null);
      const info = topic
        ? unwrap(await port.partition(p.topic, p.partition).info(refOf(topic, p.partition)))
        : null;
      const highWatermark = info?.highWatermark ?? null;
      const from = p.committed ?? info?.earliestOffset ?? 0;
      const lag = highWatermark === null ? null : Math.max(0, highWatermark - from);
      return { ...p, highWatermark, lag };
    }),
  );
  return { offsets, totalLag: offsets.reduce((sum, o) => sum + (o.lag ?? 0), 0) };
}
