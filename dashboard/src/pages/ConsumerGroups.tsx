/**
 * Consumer groups (PROTOCOL.md §16): each group's members and its lag per partition (the
 * high watermark minus the committed offset), live from the `__metrics` stream. On a topic's
 * page, only that topic's rows.
 */
import { useEffect, useState } from "react";
import { useActions, useDash } from "../hooks.ts";
import { liveGroupOffsets } from "../store/derive.ts";
import type { GroupDetail } from "../store/state.ts";

export function ConsumerGroups({ topic }: { topic?: string }) {
  const actions = useActions();
  useEffect(() => actions.groups.watch(), [actions]);
  const list = useDash((s) => s.groups.list);
  const error = useDash((s) => s.groups.error);
  const groups = (list ?? []).filter((g) => !topic || g.offsets.some((o) => o.topic === topic));
  return (
    <section className="panel" aria-labelledby="groups-title">
      <h2 id="groups-title">Consumer groups</h2>
      {error && <div className="notice">Could not load consumer groups: {error}</div>}
      {list !== null && groups.length === 0 && (
        <p className="muted">
          No consumer groups{topic ? " read this topic" : ""} yet. Members join with{" "}
          <code>joinGroup(client, {"{ group, topic }"})</code> from{" "}
          <code>@kaiten/client/group</code>.
        </p>
      )}
      {groups.map((g) => (
        <Group key={g.name} group={g} topic={topic} />
      ))}
    </section>
  );
}

function Group({ group, topic }: { group: GroupDetail; topic?: string }) {
  const live = useDash((s) => s.metrics.partitions);
  const rows = liveGroupOffsets(
    group.offsets.filter((o) => !topic || o.topic === topic),
    live,
  );
  const lag = rows.reduce((sum, o) => sum + (o.lag ?? 0), 0);
  return (
    <div className="group" data-testid="group" data-group={group.name}>
      <h3>
        {group.name} <span className="badge">{group.state}</span>{" "}
        <span className="muted">
          {group.members.length} member{group.members.length === 1 ? "" : "s"} · generation{" "}
          {group.generation} · lag <span data-testid="group-lag">{lag.toLocaleString()}</span>
        </span>
      </h3>
      <GroupAdmin group={group} topic={topic} />
      <table className="table compact" aria-label={`Offsets of group ${group.name}`}>
        <thead>
          <tr>
            <th>Topic</th>
            <th className="num">Partition</th>
            <th>Member</th>
            <th className="num">Committed</th>
            <th className="num">High watermark</th>
            <th className="num">Lag</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr key={`${o.topic}/${o.partition}`} data-testid="group-partition">
              <td>{o.topic}</td>
              <td className="num">{o.partition}</td>
              <td className="muted">{memberLabel(group, o.member)}</td>
              <td className="num">{o.committed ?? "–"}</td>
              <td className="num">{o.highWatermark ?? "–"}</td>
              <td className="num">{o.lag ?? "–"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Reset and delete: only while the group has no members (PROTOCOL.md §16.5), and as admin. */
function GroupAdmin({ group, topic }: { group: GroupDetail; topic?: string }) {
  const actions = useActions();
  const [error, setError] = useState<string | null>(null);
  const busy = group.members.length > 0;
  const why = busy ? "Only while the group has no members" : undefined;
  const topics = [...new Set(group.offsets.map((o) => o.topic))].filter(
    (t) => !topic || t === topic,
  );
  const run = async (request: Promise<string | null>) => setError(await request);
  return (
    <div className="group-admin">
      {topics.map((t) =>
        (["earliest", "latest"] as const).map((to) => (
          <button
            key={`${t}-${to}`}
            type="button"
            disabled={busy}
            title={why}
            onClick={() => run(actions.groups.reset(group.name, t, to))}
          >
            Reset {topics.length > 1 ? `${t} ` : ""}to {to}
          </button>
        )),
      )}
      <button
        type="button"
        disabled={busy}
        title={why}
        onClick={() => run(actions.groups.remove(group.name))}
      >
        Delete group
      </button>
      {busy && <span className="muted"> {why}</span>}
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

function memberLabel(group: GroupDetail, id: string | null): string {
  if (id === null) return "unassigned";
  const m = group.members.find((x) => x.id === id);
  return m?.instanceId ?? id.slice(0, 8);
}
