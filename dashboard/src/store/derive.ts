/** Views of the state that combine sources: live `__metrics` numbers over HTTP snapshots. */
import type { GroupDetail, PartitionNow, TopicDetail } from "./state.ts";

export interface PartitionRow {
  partition: number;
  live: PartitionNow | undefined;
  earliestOffset: number | undefined;
  highWatermark: number | undefined;
  subscribers: number | undefined;
}

/**
 * One row per partition: the latest `__metrics` record where the partition published in the
 * history read, else what `GET /v1/topics/{t}` said (idle partitions publish nothing).
 */
export function partitionRows(
  live: Record<string, PartitionNow>,
  detail: TopicDetail | undefined,
  name: string,
  count: number,
): PartitionRow[] {
  return Array.from({ length: count }, (_, p) => {
    const m = live[`${name}/${p}`];
    const d = detail?.partitions[p];
    return {
      partition: p,
      live: m,
      earliestOffset: m?.last.earliestOffset ?? d?.earliestOffset,
      highWatermark: m?.last.highWatermark ?? d?.highWatermark,
      subscribers: m?.last.subscribers ?? d?.subscribers,
    };
  });
}

/** Sums a field over the rows; undefined if any partition is unknown. */
export function total(
  rows: PartitionRow[],
  field: "highWatermark" | "subscribers",
): number | undefined {
  let sum = 0;
  for (const r of rows) {
    const v = r[field];
    if (v === undefined) return undefined;
    sum += v;
  }
  return sum;
}

export type GroupOffset = GroupDetail["offsets"][number];

/**
 * A group's offsets with lag from the partitions' live high watermarks (`__metrics`): records
 * produced since the group last committed count at once, without asking the broker. Lag counts
 * from the committed offset, or from the earliest retained one when nothing is committed
 * (PROTOCOL.md §16.5).
 */
export function liveGroupOffsets(
  offsets: GroupOffset[],
  live: Record<string, PartitionNow>,
): GroupOffset[] {
  return offsets.map((o) => {
    const m = live[`${o.topic}/${o.partition}`]?.last;
    if (!m || (o.highWatermark !== null && m.highWatermark <= o.highWatermark)) return o;
    const from = o.committed ?? m.earliestOffset;
    return { ...o, highWatermark: m.highWatermark, lag: Math.max(0, m.highWatermark - from) };
  });
}
