/**
 * A latency histogram in 0.1 ms buckets up to 60 s, cheap to fill from a hot loop and to
 * merge across processes (only its non-empty buckets travel).
 */
const BUCKET_MS = 0.1;
const BUCKETS = 600_000;

export interface HistogramData {
  /** [bucket, count] for each non-empty bucket. */
  buckets: Array<[number, number]>;
  count: number;
  maxMs: number;
}

export class Histogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  maxMs = 0;
  /**
   * Buckets past this one are empty. toData() scans only up to it: a scan of all 600,000
   * buckets per histogram, two per lean W2 socket and 100 sockets per process, took part of
   * a second of CPU inside the timed part's `process.cpuUsage` and touched 480 MB of pages.
   */
  private top = 0;

  add(ms: number): void {
    const b = Math.min(BUCKETS - 1, Math.max(0, Math.floor(ms / BUCKET_MS)));
    this.counts[b] = (this.counts[b] as number) + 1;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
    if (b > this.top) this.top = b;
  }

  toData(): HistogramData {
    const buckets: Array<[number, number]> = [];
    for (let b = 0; b <= this.top; b++) {
      const n = this.counts[b] as number;
      if (n > 0) buckets.push([b, n]);
    }
    return { buckets, count: this.count, maxMs: this.maxMs };
  }

  merge(data: HistogramData): void {
    for (const [b, n] of data.buckets) {
      this.counts[b] = (this.counts[b] as number) + n;
      if (b > this.top) this.top = b;
    }
    this.count += data.count;
    this.maxMs = Math.max(this.maxMs, data.maxMs);
  }

  /** The latency at quantile q (0..1), in ms: the upper edge of its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b] as number;
      if (seen >= rank) return Math.min((b + 1) * BUCKET_MS, this.maxMs);
    }
    return this.maxMs;
  }
}
