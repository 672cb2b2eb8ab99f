import { useState } from "react";
import { Chart, PALETTE } from "../components/Chart.tsx";
import { Empty, Spinner } from "../components/Empty.tsx";
import { Link } from "../components/Link.tsx";
import { formatBytes, formatCount } from "../format.ts";
import { useDash } from "../hooks.ts";
import { topicHref } from "../store/route.ts";

const SERIES = [
  { key: "recordsIn", label: "Records in", format: formatCount },
  { key: "recordsOut", label: "Records out", format: formatCount },
  { key: "bytesIn", label: "Bytes in", format: formatBytes },
  { key: "bytesOut", label: "Bytes out", format: formatBytes },
] as const;

/** Throughput per topic: one chart, of the series picked, and the busiest topics now. */
export function ByTopic() {
  const [pick, setPick] = useState(0);
  const series = SERIES[pick] ?? SERIES[0];
  const m = useDash((s) => s.metrics);
  // Colors follow names, not ranks, so a line keeps its color as rates change.
  const named = Object.values(m.topics).sort((a, b) => a.name.localeCompare(b.name));
  const color = (name: string) => PALETTE[named.findIndex((t) => t.name === name)];
  const charted = named.slice(0, PALETTE.length);
  const topics = [...named].sort((a, b) => b.recordsIn - a.recordsIn);
  if (!topics.length) {
    return (
      <div className="panel">
        <h2>By topic</h2>
        {m.phase === "live" ? (
          <Empty title="No traffic in the last 5 minutes" icon="≈">
            Produce to any topic and it appears here within a second or two. For a stream to watch
            right away, run <code>npm run demo</code>, or send a record from{" "}
            <Link href="/produce">Produce</Link>.
          </Empty>
        ) : (
          <Spinner label="Reading the metrics history…" />
        )}
      </div>
    );
  }
  return (
    <div className="panel">
      <div className="panel-head">
        <h2>{series.label} per second, by topic</h2>
        <fieldset className="segmented" aria-label="Series">
          {SERIES.map((s, i) => (
            <button key={s.key} type="button" aria-pressed={i === pick} onClick={() => setPick(i)}>
              {s.label}
            </button>
          ))}
        </fieldset>
      </div>
      <div className="split">
        <Chart
          label={`${series.label} per second by topic`}
          x={m.charts.x}
          format={series.format}
          height={220}
          lines={charted.map((t) => ({
            label: t.name,
            values: m.charts.byTopic[t.name]?.[series.key] ?? [],
            color: color(t.name) as string,
          }))}
        />
        <table className="table compact" aria-label="Busiest topics">
          <thead>
            <tr>
              <th>Topic</th>
              <th className="num">In/s</th>
              <th className="num">Out/s</th>
              <th className="num">Subs</th>
            </tr>
          </thead>
          <tbody>
            {topics.slice(0, 10).map((t) => (
              <tr key={t.name}>
                <td>
                  <span className="swatch" style={{ background: color(t.name) ?? "transparent" }} />
                  <Link href={topicHref(t.name)}>{t.name}</Link>
                </td>
                <td className="num">{formatCount(t.recordsIn)}</td>
                <td className="num">{formatCount(t.recordsOut)}</td>
                <td className="num">{t.subscribers}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
