/**
 * When a partition trims its log by time: one alarm, set for when the oldest chunk's newest
 * record passes the time limit (docs/ARCHITECTURE.md, Retention). The size limit is checked
 * by the log after each commit; this is the timer for the time limit, which a host provides
 * as an Alarm (a Durable Object alarm, or a timer on Node).
 */
import type { PartitionLog } from "./partition-log.ts";
import type { Host } from "./types.ts";

/** A host's one alarm per partition: setting it again replaces the pending time. */
export interface Alarm {
  set(at: number): void;
}

/** An alarm never fires sooner than this after it is set, so a burst of expiries is one pass. */
export const MIN_ALARM_DELAY_MS = 1_000;

export class RetentionSchedule {
  /** When the pending alarm fires; null: none is set (or the host's state is not known yet). */
  private due: number | null = null;

  constructor(
    private readonly log: PartitionLog,
    private readonly host: Host,
    private readonly alarm: Alarm,
  ) {}

  /** The alarm already pending in the host's storage (a Durable Object keeps it across restarts). */
  restore(at: number | null): void {
    this.due = at;
  }

  /** Keeps one alarm set while time retention applies. Call after each commit. */
  ensure(): void {
    if (this.due !== null) return;
    const due = this.log.retentionDue();
    if (due === null) return;
    this.due = Math.max(due, this.host.now() + MIN_ALARM_DELAY_MS);
    this.alarm.set(this.due);
  }

  /** The alarm fired: trim what expired, then set the next one. Never throws. */
  fired(): void {
    this.due = null;
    try {
      this.log.enforceRetention(this.host.now());
    } catch (error) {
      this.host.log("retention failed", error);
    }
    this.ensure();
  }

  /** The host dropped its alarm (the log was deleted). */
  cleared(): void {
    this.due = null;
  }
}
