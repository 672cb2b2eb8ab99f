/** Who sends what: shared by the load generators and the bench, so both agree on counts. */
import { partitionForKey } from "@kaiten/protocol";

const utf8 = new TextEncoder();

/** The key of keyed record `no` of producer `producer` (W6). */
export function keyOf(producer: number, no: number): Uint8Array {
  return utf8.encode(`user-${producer}-${no}`);
}

/** Record numbers of one producer grouped by the partition their key goes to (§10). */
export function keyedPlan(producer: number, records: number, partitions: number): number[][] {
  const plan: number[][] = Array.from({ length: partitions }, () => []);
  for (let no = 0; no < records; no++) {
    plan[partitionForKey(keyOf(producer, no), partitions)]?.push(no);
  }
  return plan;
}

/** Records each partition receives from all producers. */
export function keyedTotals(producers: number, records: number, partitions: number): number[] {
  const totals = new Array<number>(partitions).fill(0);
  for (let p = 0; p < producers; p++) {
    keyedPlan(p, records, partitions).forEach((nos, partition) => {
      totals[partition] = (totals[partition] as number) + nos.length;
    });
  }
  return totals;
}
