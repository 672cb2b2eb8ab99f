/** Hand-driven timers and a log sink for the services' tests: nothing runs until a test says. */
import type { Timers } from "../src/core/commit-waiters.ts";

export class ManualTimers implements Timers {
  private next = 1;
  readonly pending = new Map<number, { fn: () => void; ms: number }>();

  set(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { fn, ms });
    return id;
  }

  clear(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Runs every timer set so far (not those they set). */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const t of due) t.fn();
  }
}

export interface Logged {
  line: string;
  error: unknown;
}

export function logSink(): { lines: Logged[]; log: (line: string, error?: unknown) => void } {
  const lines: Logged[] = [];
  return { lines, log: (line, error) => lines.push({ line, error }) };
}

/** Lets pending promise callbacks and setImmediate work run. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
