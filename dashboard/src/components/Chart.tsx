import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";
import { perFrame } from "../store/frame.ts";

export interface Line {
  label: string;
  values: (number | null)[];
  color: string;
  /** Shade the area under the line. Default: false */
  fill?: boolean;
}

interface ChartProps {
  /** Unix seconds, oldest first. */
  x: number[];
  lines: Line[];
  format: (n: number) => string;
  /** Accessible description of what the chart shows. */
  label: string;
  /** Default: 200 */
  height?: number;
  testId?: string;
}

/** A palette that stays readable on the dark background, in the order lines get it. */
export const PALETTE = [
  "#f97362",
  "#5b8def",
  "#3ecf8e",
  "#f5b942",
  "#a78bfa",
  "#2dd4bf",
  "#f472b6",
  "#94a3b8",
];

/** Whole-number tick steps, 1-2-5 (records, bytes and ms are not usefully split further). */
const STEPS = Array.from(
  { length: 39 },
  (_, i) => ([1, 2, 5][i % 3] as number) * 10 ** Math.floor(i / 3),
);

const AXIS = {
  stroke: "#8b93a7",
  grid: { stroke: "rgba(255,255,255,0.06)", width: 1 },
  ticks: { stroke: "rgba(255,255,255,0.08)", width: 1, size: 4 },
  font: "11px system-ui, sans-serif",
};

/** HH:MM, or HH:MM:SS off the minute (or always, with `seconds`), local time, from unix seconds. */
function clock(sec: number, seconds = false): string {
  const d = new Date(sec * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return seconds || d.getSeconds() ? `${hm}:${pad(d.getSeconds())}` : hm;
}

function latest(values: ArrayLike<number | null | undefined> | undefined): number | null {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) {
    const v = values?.[i];
    if (v != null) return v;
  }
  return null;
}

/**
 * A uPlot time series. The plot is created once per set of lines and then only fed new data,
 * at most once per animation frame however often the store changes.
 */
export function Chart({ x, lines, format, label, height = 200, testId }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = useRef<uPlot.AlignedData>([x]);
  data.current = [x, ...lines.map((l) => l.values)] as uPlot.AlignedData;
  const redraw = useMemo(() => perFrame(() => plot.current?.setData(data.current)), []);
  // Read at draw time, so switching what a chart shows (records, bytes) needs no new plot.
  const fmt = useRef(format);
  fmt.current = format;
  const shape = lines.map((l) => `${l.label}:${l.color}:${l.fill}`).join("|");

  // biome-ignore lint/correctness/useExhaustiveDependencies: the plot is rebuilt only when its lines change, not their values.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      legend: { show: true, live: true },
      cursor: { points: { size: 6 }, drag: { x: false, y: false } },
      // From 0, with headroom; an all-zero series gets 0..10 rather than fractions of one.
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 10] } },
      axes: [
        { ...AXIS, space: 80, values: (_u, ticks) => ticks.map((t) => clock(t)) },
        {
          ...AXIS,
          size: 56,
          incrs: STEPS,
          values: (_u, ticks) => ticks.map((t) => fmt.current(t)),
        },
      ],
      series: [
        // Off the chart, the legend shows the latest values instead of dashes.
        { value: (_u, v) => (v == null ? "latest" : clock(v, true)) },
        ...lines.map((l) => ({
          label: l.label,
          stroke: l.color,
          width: 1.75,
          fill: l.fill ? `${l.color}1f` : undefined,
          points: { show: false },
          spanGaps: false,
          value: (u: uPlot, v: number | null, si: number, idx: number | null) => {
            const shown = idx == null ? latest(u.data[si]) : v;
            return shown == null ? "–" : fmt.current(shown);
          },
        })),
      ],
    };
    const u = new uPlot(opts, data.current, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height]);

  useEffect(redraw);

  return <div className="chart" ref={box} role="img" aria-label={label} data-testid={testId} />;
}
