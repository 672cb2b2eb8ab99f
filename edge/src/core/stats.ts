/**
 * Counters of one partition for the broker's own metrics stream (`__metrics`), reset each
 * time they are published. Only plain numbers: cheap to bump on the hot path.
 */
export interface StatsSnapshot {
  windowMs: number;
  recordsIn: number;
  bytesIn: number;
  recordsOut: number;
  bytesOut: number;
  commits: number;
  /** Mean and worst time from a batch's arrival to its group commit. */
  commitMsAvg: number;
  commitMsMax: number;
  /** Mean time from a record's producer timestamp to its push to live subscribers. */
  deliverMsAvg: number;
}

export class PartitionStats {
  private since: number;
  recordsIn = 0;
  bytesIn = 0;
  recordsOut = 0;
  bytesOut = 0;
  commits = 0;
  private commitMsSum = 0;
  private commitSamples = 0;
  private commitMsMax = 0;
  private deliverMsSum = 0;
  private deliverSamples = 0;

  constructor(
    private readonly now: () => number,
    /** Called on every change, so the host can schedule a publication. */
    private readonly onActivity: () => void = () => {},
  ) {
    this.since = now();
  }

  committed(records: number, bytes: number, waitedMs: readonly number[]): void {
    this.recordsIn += records;
    this.bytesIn += bytes;
    this.commits++;
    for (const ms of waitedMs) {
      this.commitMsSum += ms;
      this.commitMsMax = Math.max(this.commitMsMax, ms);
    }
    this.commitSamples += waitedMs.length;
    this.onActivity();
  }

  sent(records: number, bytes: number): void {
    this.recordsOut += records;
    this.bytesOut += bytes;
    this.onActivity();
  }

  delivered(lagMs: number): void {
    this.deliverMsSum += Math.max(0, lagMs);
    this.deliverSamples++;
  }

  /** Something a reader of metrics cares about changed (a subscriber came or went). */
  touched(): void {
    this.onActivity();
  }

  /** The counters since the last snapshot, then starts a new window. */
  take(): StatsSnapshot {
    const now = this.now();
    const snap: StatsSnapshot = {
      windowMs: now - this.since,
      recordsIn: this.recordsIn,
      bytesIn: this.bytesIn,
      recordsOut: this.recordsOut,
      bytesOut: this.bytesOut,
      commits: this.commits,
      commitMsAvg: this.commitSamples ? this.commitMsSum / this.commitSamples : 0,
      commitMsMax: this.commitMsMax,
      deliverMsAvg: this.deliverSamples ? this.deliverMsSum / this.deliverSamples : 0,
    };
    this.since = now;
    this.recordsIn = this.bytesIn = this.recordsOut = this.bytesOut = this.commits = 0;
    this.commitMsSum = this.commitSamples = this.commitMsMax = 0;
    this.deliverMsSum = this.deliverSamples = 0;
    return snap;
  }
}
