import { useEffect, useState } from "react";
import { Denied } from "../components/Denied.tsx";
import { Empty, Spinner } from "../components/Empty.tsx";
import { Link } from "../components/Link.tsx";
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatOffset,
  formatSize,
  isSystemTopic,
} from "../format.ts";
import { useActions, useDash, useDenied } from "../hooks.ts";
import { partitionRows, total } from "../store/derive.ts";
import { topicHref } from "../store/route.ts";
import { CreateTopic } from "./CreateTopic.tsx";

/** Topics described on opening the page, at most: each description asks every partition. */
const DESCRIBE_AT_MOST = 50;

export function Topics() {
  const { topics: actions } = useActions();
  const t = useDash((s) => s.topics);
  const live = useDash((s) => s.metrics.topics);
  const partitions = useDash((s) => s.metrics.partitions);
  // While the broker is unreachable the banner says so; a second notice would only repeat it.
  const unreachable = useDash((s) => s.connection.unreachable);
  const [creating, setCreating] = useState(false);
  const cannotCreate = useDenied("admin");
  useEffect(() => {
    actions.load();
  }, [actions]);
  // Topics idle through the whole metrics history have no live numbers: ask the broker once.
  const list = t.list;
  // biome-ignore lint/correctness/useExhaustiveDependencies: once per list, not per metrics update.
  useEffect(() => {
    const quiet = (list ?? []).filter((x) => (live[x.name]?.partitionsSeen ?? 0) < x.partitions);
    for (const x of quiet.slice(0, DESCRIBE_AT_MOST))
      if (!t.details[x.name]) actions.describe(x.name);
  }, [list, actions]);
  const rows = (t.list ?? []).filter((x) => t.showSystem || !isSystemTopic(x.name));
  const hidden = (t.list?.length ?? 0) - rows.length;
  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Topics</h1>
          <p className="muted">
            Configs from the broker; rates and offsets from the metrics stream.
          </p>
        </div>
        <button
          type="button"
          className="btn btn-primary"
          onClick={() => setCreating(!creating)}
          aria-expanded={creating}
          disabled={!!cannotCreate}
          title={cannotCreate ?? undefined}
        >
          {creating ? "Close" : "New topic"}
        </button>
      </header>
      <Denied reason={cannotCreate} />
      {creating && <CreateTopic onDone={() => setCreating(false)} />}
      {t.error && !unreachable && <div className="notice">Could not load topics: {t.error}</div>}
      <div className="panel flush">
        <div className="panel-bar">
          <span className="muted">
            {t.list ? `${rows.length} topic${rows.length === 1 ? "" : "s"}` : ""}
            {hidden > 0 && ` · ${hidden} system topic${hidden === 1 ? "" : "s"} hidden`}
          </span>
          <label className="toggle">
            <input
              type="checkbox"
              checked={t.showSystem}
              onChange={(e) => actions.showSystem(e.target.checked)}
            />
            Show system topics
          </label>
        </div>
        {t.list === null ? (
          t.loading ? (
            <Spinner label="Loading topics…" />
          ) : (
            <Empty title="Topics could not be loaded" icon="!">
              The list appears as soon as the broker answers.
            </Empty>
          )
        ) : rows.length === 0 ? (
          <Empty title="No topics yet" icon="☰">
            Create one with <strong>New topic</strong>, produce to any name (topics are created on
            first use), or run <code>npm run demo</code>.
          </Empty>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th>Name</th>
                <th className="num">Partitions</th>
                <th>Retention</th>
                <th
                  className="num"
                  title="Sum of the partitions' high watermarks: records ever written"
                >
                  High watermark
                </th>
                <th className="num">In/s</th>
                <th className="num">Out/s</th>
                <th className="num">Subscribers</th>
                <th className="num">Stored</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((x) => {
                const m = live[x.name];
                const parts = partitionRows(partitions, t.details[x.name], x.name, x.partitions);
                const subscribers = total(parts, "subscribers");
                return (
                  <tr key={x.name} data-testid="topic-row" data-topic={x.name}>
                    <td>
                      <Link href={topicHref(x.name)} className="strong">
                        {x.name}
                      </Link>
                    </td>
                    <td className="num">{x.partitions}</td>
                    <td>
                      {formatDuration(x.retentionMs)}
                      <span className="muted">
                        {" "}
                        · {x.retentionBytes < 0 ? "no size limit" : formatSize(x.retentionBytes)}
                      </span>
                    </td>
                    <td className="num">{formatOffset(total(parts, "highWatermark"))}</td>
                    <td className="num">{formatCount(m?.recordsIn ?? 0)}</td>
                    <td className="num">{formatCount(m?.recordsOut ?? 0)}</td>
                    <td className="num">{subscribers ?? "–"}</td>
                    <td className="num">{m ? formatBytes(m.storedBytes) : "–"}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </div>
    </section>
  );
}
