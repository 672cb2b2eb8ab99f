/**
 * The place for consumer-group lag. Consumer groups (committed offsets per group) are not in
 * protocol v1 yet; when they land, this panel lists each group's lag per partition: the high
 * watermark from `__metrics` minus the group's committed offset.
 */
export function ConsumerGroups({ topic }: { topic?: string }) {
  return (
    <section className="panel panel-muted" aria-labelledby="groups-title">
      <h2 id="groups-title">
        Consumer groups <span className="badge">coming soon</span>
      </h2>
      <p className="muted">
        Lag per consumer group{topic ? " on this topic" : ""} (the high watermark minus the group's
        committed offset, per partition) will appear here once Kaiten has consumer groups. Today
        each subscriber keeps its own position.
      </p>
    </section>
  );
}
