/**
 * The throughput history behind the charts (dashboard/src/store/series.ts): per-second buckets
 * built from `__metrics` records (docs/PROTOCOL.md §14), without a browser.
 */
import { describe, expect, it } from "vitest";
import {
  activeWindowMs,
  Buckets,
  HISTORY_S,
  type MetricsValue,
  RIN,
  ROUT,
} from "../../dashboard/src/store/series.ts";

const T = 1_800_000_000_000; // a whole second

function record(at: number, windowMs: number, recordsIn: number, more: Partial<MetricsValue> = {}) {
  return {
    topic: "clicks",
    partition: 0,
    at,
    windowMs,
    recordsIn,
    bytesIn: recordsIn * 100,
    recordsOut: 0,
    bytesOut: 0,
    commits: 1,
    commitMsAvg: 2,
    commitMsMax: 3,
    deliverMsAvg: 0,
    highWatermark: 0,
    earliestOffset: 0,
    storedBytes: 0,
    subscribers: 0,
    ...more,
  } satisfies MetricsValue;
}

const last = (values: number[], n: number) =>
  values.slice(-n).map((v) => Math.round(v * 100) / 100);

describe("metrics buckets", () => {
  it("spreads a record's counts over the seconds its window covers", () => {
    const b = new Buckets();
    b.add(record(T + 1_500, 1_000, 100)); // covers T+0.5 s .. T+1.5 s
    const end = T / 1000 + 1;
    expect(last(b.read(RIN, end), 2)).toEqual([50, 50]);
  });

  it("takes the activity of a record after an idle spell to be in its last second", () => {
    expect(activeWindowMs({ windowMs: 3_600_000 })).toBe(1_000);
    expect(activeWindowMs({ windowMs: 1_040 })).toBe(1_040);
    const b = new Buckets();
    b.add(record(T + 1_000, 3_600_000, 80));
    expect(last(b.read(RIN, T / 1000), 3)).toEqual([0, 0, 80]);
  });

  it("adds partitions and topics that publish in the same second", () => {
    const b = new Buckets();
    b.add(record(T + 1_000, 1_000, 30));
    b.add(record(T + 1_000, 1_000, 12, { partition: 1, recordsOut: 7 }));
    expect(last(b.read(RIN, T / 1000), 1)).toEqual([42]);
    expect(last(b.read(ROUT, T / 1000), 1)).toEqual([7]);
  });

  it("forgets seconds older than the history, and ignores records that arrive for them", () => {
    const b = new Buckets();
    b.add(record(T + 1_000, 1_000, 5));
    const later = T / 1000 + HISTORY_S;
    b.add(record(later * 1000 + 1_000, 1_000, 9)); // reuses the slot of second T/1000
    expect(b.read(RIN, later).reduce((a, v) => a + v, 0)).toBe(9);
    b.add(record(T + 1_000, 1_000, 5)); // too old now
    expect(b.read(RIN, later).reduce((a, v) => a + v, 0)).toBe(9);
  });

  it("averages latency over the partitions that measured it, and leaves other seconds empty", () => {
    const b = new Buckets();
    b.add(record(T + 1_000, 1_000, 10, { recordsOut: 10, deliverMsAvg: 4 }));
    b.add(record(T + 1_000, 1_000, 10, { partition: 1, recordsOut: 10, deliverMsAvg: 8 }));
    const { deliver, commit } = b.latency(T / 1000);
    expect(deliver.slice(-2)).toEqual([null, 6]);
    expect(commit.slice(-1)).toEqual([2]);
  });
});
