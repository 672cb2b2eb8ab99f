/**
 * A Durable Object alarm on Node: one timer for an absolute time. Setting it again replaces
 * it; a time past setTimeout's reach (about 24.8 days) is waited for in steps. It never keeps
 * a stopping process alive.
 */

/** setTimeout's longest delay; a later alarm is set again when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class AlarmTimer {
  private timer: NodeJS.Timeout | null = null;
  /** When it fires; null: not set. */
  at: number | null = null;

  constructor(private readonly fire: () => void) {}

  set(at: number): void {
    this.clear();
    this.at = at;
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (Date.now() < at) return this.set(at);
      this.at = null;
      this.fire();
    }, delay);
    this.timer.unref();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.at = null;
  }
}
