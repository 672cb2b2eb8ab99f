/** Numbers as people read them on a dashboard. */

const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const one = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

/** 0, 12, 1,234, 12.3k, 4.5M */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "–";
  if (Math.abs(n) >= 1e6) return `${one.format(n / 1e6)}M`;
  if (Math.abs(n) >= 1e5) return `${one.format(n / 1e3)}k`;
  if (Math.abs(n) < 10 && n % 1) return one.format(n);
  return int.format(n);
}

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Decimal units (1 KB = 1000 B), as rates and disks are usually shown. */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  let u = 0;
  while (Math.abs(n) >= 1000 && u < UNITS.length - 1) {
    n /= 1000;
    u++;
  }
  return `${u === 0 ? int.format(n) : one.format(n)} ${UNITS[u]}`;
}

/** A configured size: binary units when it is a whole number of them (1 GiB), else decimal (1 MB). */
export function formatSize(n: number): string {
  for (const [unit, size] of [
    ["GiB", 2 ** 30],
    ["MiB", 2 ** 20],
    ["KiB", 2 ** 10],
  ] as const) {
    if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  }
  return formatBytes(n);
}

/** An offset, exact, with separators. */
export const formatOffset = (n: number | undefined) => (n === undefined ? "–" : int.format(n));

/** A retention: 1 h, 7 d, 90 min; -1 is forever. */
export function formatDuration(ms: number): string {
  if (ms < 0) return "forever";
  const units: Array<[number, string]> = [
    [86_400_000, "d"],
    [3_600_000, "h"],
    [60_000, "min"],
    [1_000, "s"],
  ];
  for (const [size, name] of units)
    if (ms >= size && ms % size === 0) return `${ms / size} ${name}`;
  for (const [size, name] of units) if (ms >= size) return `${one.format(ms / size)} ${name}`;
  return `${ms} ms`;
}

export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return "–";
  return ms >= 1000
    ? `${one.format(ms / 1000)} s`
    : `${ms < 10 ? one.format(ms) : int.format(ms)} ms`;
}

/** 14:03:27.512 in local time. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

export function formatDate(ms: number): string {
  return new Date(ms).toLocaleString("en-US", { dateStyle: "medium", timeStyle: "short" });
}

export const isSystemTopic = (name: string) => name.startsWith("__");
