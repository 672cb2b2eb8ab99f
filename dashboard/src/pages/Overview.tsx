import { Chart, PALETTE } from "../components/Chart.tsx";
import { Spinner } from "../components/Empty.tsx";
import { Stat } from "../components/Stat.tsx";
import { formatBytes, formatCount, isSystemTopic } from "../format.ts";
import { useDash } from "../hooks.ts";
import { HISTORY_S } from "../store/series.ts";
import { ByTopic } from "./ByTopic.tsx";
import { ConsumerGroups } from "./ConsumerGroups.tsx";

export function Overview() {
  const m = useDash((s) => s.metrics);
  const list = useDash((s) => s.topics.list);
  const t = m.totals;
  const userTopics = list?.filter((x) => !isSystemTopic(x.name));
  const partitions = userTopics ? userTopics.reduce((n, x) => n + x.partitions, 0) : t.partitions;
  const loading = m.phase !== "live";
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Overview</h1>
          <p className="muted">
            Throughput of every topic, from the broker's <code>__metrics</code> stream · last{" "}
            {HISTORY_S / 60} minutes
          </p>
        </div>
        {loading && (
          <Spinner label={m.phase === "connecting" ? "Connecting…" : "Loading history…"} />
        )}
      </header>
      {m.error && <div className="notice">{m.error}</div>}
      <div className="stats">
        <Stat
          label="Records in"
          unit="/s"
          value={formatCount(t.recordsIn)}
          raw={Math.round(t.recordsIn)}
          tone="in"
          testId="total-in-rate"
        />
        <Stat
          label="Records out"
          unit="/s"
          value={formatCount(t.recordsOut)}
          raw={Math.round(t.recordsOut)}
          tone="out"
        />
        <Stat label="Bytes in" unit="/s" value={formatBytes(t.bytesIn)} tone="in" />
        <Stat label="Bytes out" unit="/s" value={formatBytes(t.bytesOut)} tone="out" />
        <Stat label="Subscribers" value={formatCount(t.subscribers)} hint="connected now" />
        <Stat
          label="Partitions"
          value={formatCount(partitions)}
          hint={`${userTopics?.length ?? Object.keys(m.topics).length} topics`}
        />
        <Stat
          label="Storage"
          value={formatBytes(t.storedBytes)}
          hint={`${t.partitions} active partitions`}
        />
      </div>
      <div className="grid-2">
        <div className="panel">
          <h2>Records per second</h2>
          <Chart
            testId="chart-records"
            label="Records per second in and out, all topics"
            x={m.charts.x}
            format={formatCount}
            lines={[
              {
                label: "In",
                values: m.charts.total.recordsIn,
                color: PALETTE[0] as string,
                fill: true,
              },
              { label: "Out", values: m.charts.total.recordsOut, color: PALETTE[1] as string },
            ]}
          />
        </div>
        <div className="panel">
          <h2>Bytes per second</h2>
          <Chart
            label="Bytes per second in and out, all topics"
            x={m.charts.x}
            format={formatBytes}
            lines={[
              {
                label: "In",
                values: m.charts.total.bytesIn,
                color: PALETTE[0] as string,
                fill: true,
              },
              { label: "Out", values: m.charts.total.bytesOut, color: PALETTE[1] as string },
            ]}
          />
        </div>
      </div>
      <ByTopic />
      <ConsumerGroups />
    </section>
  );
}
