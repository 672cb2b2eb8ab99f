/**
 * Per-second throughput history, built from `__metrics` records (docs/PROTOCOL.md §14).
 * Pure data: no SDK, no DOM, no React, so it is cheap to reason about and to test.
 */

/** Seconds of history kept and charted: what the dashboard reads back when it opens. */
export const HISTORY_S = 300;

/** One `__metrics` record's value (§14). */
export interface MetricsValue {
  topic: string;
  partition: number;
  at: number;
  windowMs: number;
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
  commits: number;
  commitMsAvg: number;
  commitMsMax: number;
  deliverMsAvg: number;
  highWatermark: number;
  earliestOffset: number;
  storedBytes: number;
  subscribers: number;
}

/** The broker publishes an active partition's counters this often (edge metrics.ts). */
const PUBLISH_MS = 1_000;

/**
 * The span a record's counters really cover. A partition publishes 1 s after the first
 * activity following its last publication, so after an idle spell `windowMs` is the whole
 * spell (maybe hours) while all of its activity happened in the last second. Spreading it
 * over the spell would flatten a burst into nothing.
 */
export function activeWindowMs(v: Pick<MetricsValue, "windowMs">): number {
  return v.windowMs > PUBLISH_MS * 1.5 ? PUBLISH_MS : Math.max(1, v.windowMs);
}

/** Counter slots of a bucket. */
export const RIN = 0;
export const BIN = 1;
export const ROUT = 2;
export const BOUT = 3;
/** Latency: sums and sample counts, averaged when read. */
const DELIVER = 4;
const DELIVER_N = 5;
const COMMIT = 6;
const COMMIT_N = 7;
const SLOTS = 8;

/** A ring of HISTORY_S one-second buckets; slot i holds second `secs[i]`. */
export class Buckets {
  private readonly secs = new Float64Array(HISTORY_S).fill(-1);
  private readonly data = new Float64Array(HISTORY_S * SLOTS);

  /** Adds a record: its counts spread evenly over the seconds its window covers. */
  add(v: MetricsValue): void {
    const window = activeWindowMs(v);
    const from = v.at - window;
    const counts = [v.recordsIn, v.bytesIn, v.recordsOut, v.bytesOut];
    for (let s = Math.floor(from / 1000); s <= Math.floor(v.at / 1000); s++) {
      const overlap = Math.min(v.at, (s + 1) * 1000) - Math.max(from, s * 1000);
      const base = this.slot(s);
      if (base < 0 || overlap <= 0) continue;
      for (let c = 0; c < 4; c++) this.bump(base + c, ((counts[c] as number) * overlap) / window);
    }
    // Latency belongs to the second the window ends in (its end is exclusive, like the counts').
    const base = this.slot(Math.floor((v.at - 1) / 1000));
    if (base < 0) return;
    if (v.recordsOut > 0) {
      this.bump(base + DELIVER, v.deliverMsAvg);
      this.bump(base + DELIVER_N, 1);
    }
    if (v.commits > 0) {
      this.bump(base + COMMIT, v.commitMsAvg);
      this.bump(base + COMMIT_N, 1);
    }
  }

  private bump(i: number, by: number): void {
    this.data[i] = (this.data[i] as number) + by;
  }

  /** Offset of second `s` in `data`, clearing a slot that held an older second; -1 if too old. */
  private slot(s: number): number {
    const i = ((s % HISTORY_S) + HISTORY_S) % HISTORY_S;
    const held = this.secs[i] as number;
    if (held > s) return -1;
    if (held < s) {
      this.secs[i] = s;
      this.data.fill(0, i * SLOTS, (i + 1) * SLOTS);
    }
    return i * SLOTS;
  }

  /** Counter `c` per second for the HISTORY_S seconds ending at `endSec`, oldest first. */
  read(c: number, endSec: number): number[] {
    return this.map(endSec, 0, (base) => this.data[base + c] as number);
  }

  /** Mean produce→deliver and batch→commit latency per second (null where none was measured). */
  latency(endSec: number): { deliver: (number | null)[]; commit: (number | null)[] } {
    const mean = (sum: number, n: number) => (base: number) =>
      this.data[base + n]
        ? (this.data[base + sum] as number) / (this.data[base + n] as number)
        : null;
    return {
      deliver: this.map(endSec, null, mean(DELIVER, DELIVER_N)),
      commit: this.map(endSec, null, mean(COMMIT, COMMIT_N)),
    };
  }

  private map<T>(endSec: number, empty: T, at: (base: number) => T): T[] {
    const out: T[] = new Array(HISTORY_S);
    for (let k = 0; k < HISTORY_S; k++) {
      const s = endSec - HISTORY_S + 1 + k;
      const i = ((s % HISTORY_S) + HISTORY_S) % HISTORY_S;
      out[k] = this.secs[i] === s ? at(i * SLOTS) : empty;
    }
    return out;
  }
}

/** The x axis for `read`: unix seconds, oldest first. */
export function secondsEndingAt(endSec: number): number[] {
  return Array.from({ length: HISTORY_S }, (_, k) => endSec - HISTORY_S + 1 + k);
}
