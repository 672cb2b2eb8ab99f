/**
 * Coalesces bursts of updates into one per animation frame, and at most one per
 * `minIntervalMs`: records can arrive thousands of times a second, the screen changes at most
 * 60 times. In a hidden tab frames stop, and so do the updates (the feeds keep their data; the
 * next visible frame shows it).
 */
export function perFrame(fn: () => void, minIntervalMs = 0): () => void {
  let pending = false;
  let last = Number.NEGATIVE_INFINITY;
  const raf =
    globalThis.requestAnimationFrame?.bind(globalThis) ??
    ((cb: () => void) => setTimeout(cb, 16) as unknown as number);
  const run = () =>
    raf(() => {
      pending = false;
      last = performance.now();
      fn();
    });
  return () => {
    if (pending) return;
    pending = true;
    const wait = last + minIntervalMs - performance.now();
    if (wait > 0) setTimeout(run, wait);
    else run();
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
