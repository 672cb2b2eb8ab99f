import { useEffect, useState } from "react";
import { Chart, PALETTE } from "../components/Chart.tsx";
import { Empty, Spinner } from "../components/Empty.tsx";
import { Link } from "../components/Link.tsx";
import { Stat } from "../components/Stat.tsx";
import {
  formatBytes,
  formatCount,
  formatDate,
  formatDuration,
  formatMs,
  formatOffset,
  formatSize,
} from "../format.ts";
import { useActions, useDash } from "../hooks.ts";
import { partitionRows } from "../store/derive.ts";
import { tailHref } from "../store/route.ts";
import { ConsumerGroups } from "./ConsumerGroups.tsx";

export function TopicPage({ name }: { name: string }) {
  const { topics } = useActions();
  const config = useDash(
    (s) => s.topics.list?.find((t) => t.name === name) ?? s.topics.details[name],
  );
  const detail = useDash((s) => s.topics.details[name]);
  const metrics = useDash((s) => s.metrics);
  const now = metrics.topics[name];
  const charts = metrics.charts;
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    topics.describe(name).then(setError);
  }, [topics, name]);

  if (!config) {
    return (
      <section className="page">
        <p className="crumb">
          <Link href="/topics">Topics</Link> /
        </p>
        <h1>{name}</h1>
        {error ? (
          <Empty title="This topic cannot be shown" icon="!">
            {error}
          </Empty>
        ) : (
          <Spinner label="Loading the topic…" />
        )}
      </section>
    );
  }
  const count = "partitionCount" in config ? config.partitionCount : config.partitions;
  const rows = partitionRows(metrics.partitions, detail, name, count);
  const latency = charts.latency[name];
  const series = charts.byTopic[name];
  const lastDeliver = rows.map((r) => r.live?.last.deliverMsAvg).filter((v): v is number => !!v);
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <p className="crumb">
            <Link href="/topics">Topics</Link> /
          </p>
          <h1>{name}</h1>
          <p className="muted chips">
            <span className="chip">{count} partitions</span>
            <span className="chip">retention {formatDuration(config.retentionMs)}</span>
            <span className="chip">
              {config.retentionBytes < 0
                ? "no size limit"
                : `${formatSize(config.retentionBytes)} / partition`}
            </span>
            <span className="chip">records up to {formatSize(config.maxRecordBytes)}</span>
            <span className="chip">created {formatDate(config.createdAt)}</span>
          </p>
        </div>
        <div className="actions">
          <Link className="btn" href={tailHref(name)}>
            Tail
          </Link>
          <Link className="btn" href={`/produce?topic=${encodeURIComponent(name)}`}>
            Produce
          </Link>
        </div>
      </header>
      <div className="stats">
        <Stat label="Records in" unit="/s" value={formatCount(now?.recordsIn ?? 0)} tone="in" />
        <Stat label="Records out" unit="/s" value={formatCount(now?.recordsOut ?? 0)} tone="out" />
        <Stat
          label="Subscribers"
          value={String(rows.reduce((n, r) => n + (r.subscribers ?? 0), 0))}
        />
        <Stat
          label="Produce → deliver"
          value={
            lastDeliver.length
              ? formatMs(lastDeliver.reduce((a, b) => a + b, 0) / lastDeliver.length)
              : "–"
          }
          hint="producer timestamp to push"
        />
        <Stat
          label="Stored"
          value={formatBytes(now?.storedBytes ?? 0)}
          hint={`${now?.partitionsSeen ?? 0} partitions active`}
        />
      </div>
      <div className="grid-2">
        <div className="panel">
          <h2>Records per second</h2>
          <Chart
            label={`Records per second in and out of ${name}`}
            x={charts.x}
            format={formatCount}
            lines={[
              {
                label: "In",
                values: series?.recordsIn ?? [],
                color: PALETTE[0] as string,
                fill: true,
              },
              { label: "Out", values: series?.recordsOut ?? [], color: PALETTE[1] as string },
            ]}
          />
        </div>
        <div className="panel">
          <h2>Latency</h2>
          <Chart
            label={`Produce to deliver and commit latency of ${name}`}
            x={charts.x}
            format={formatMs}
            lines={[
              {
                label: "Produce → deliver",
                values: latency?.deliver ?? [],
                color: PALETTE[3] as string,
              },
              {
                label: "Batch → commit",
                values: latency?.commit ?? [],
                color: PALETTE[4] as string,
              },
            ]}
          />
        </div>
      </div>
      <PartitionTable name={name} rows={rows} />
      <ConsumerGroups topic={name} />
    </section>
  );
}

function PartitionTable({ name, rows }: { name: string; rows: ReturnType<typeof partitionRows> }) {
  const max = Math.max(1, ...rows.map((r) => r.live?.recordsIn ?? 0));
  if (!rows.length) return <Empty title="No partitions" />;
  return (
    <div className="panel flush">
      <h2 className="panel-title">Partitions</h2>
      <table className="table" aria-label={`Partitions of ${name}`}>
        <thead>
          <tr>
            <th>#</th>
            <th>In/s</th>
            <th className="num">Out/s</th>
            <th className="num">Earliest</th>
            <th className="num">High watermark</th>
            <th className="num">Subscribers</th>
            <th className="num">Deliver</th>
            <th className="num">Commit avg / max</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.partition} data-testid="partition-row">
              <td className="strong">{r.partition}</td>
              <td>
                <div className="bar-cell">
                  <span
                    className="bar"
                    style={{ width: `${((r.live?.recordsIn ?? 0) / max) * 100}%` }}
                  />
                  <span>{formatCount(r.live?.recordsIn ?? 0)}</span>
                </div>
              </td>
              <td className="num">{formatCount(r.live?.recordsOut ?? 0)}</td>
              <td className="num">{formatOffset(r.earliestOffset)}</td>
              <td className="num">{formatOffset(r.highWatermark)}</td>
              <td className="num">{r.subscribers ?? "–"}</td>
              <td className="num">{formatMs(r.live?.last.deliverMsAvg || null)}</td>
              <td className="num">
                {r.live?.last.commits
                  ? `${formatMs(r.live.last.commitMsAvg)} / ${formatMs(r.live.last.commitMsMax)}`
                  : "–"}
              </td>
              <td className="num">
                <Link
                  href={tailHref(name, r.partition)}
                  aria-label={`Tail partition ${r.partition}`}
                >
                  Tail
                </Link>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
