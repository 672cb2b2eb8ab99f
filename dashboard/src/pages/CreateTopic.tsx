import { type FormEvent, useState } from "react";
import { Field } from "../components/Field.tsx";
import { useActions } from "../hooks.ts";

const RETENTION = [
  { label: "Broker default", ms: undefined },
  { label: "1 hour", ms: 3_600_000 },
  { label: "1 day", ms: 86_400_000 },
  { label: "7 days", ms: 604_800_000 },
  { label: "30 days", ms: 2_592_000_000 },
  { label: "Forever", ms: -1 },
];

const NAME = /^[A-Za-z0-9._-]{1,249}$/;

export function CreateTopic({ onDone }: { onDone: () => void }) {
  const { topics } = useActions();
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState(3);
  const [retention, setRetention] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const invalid = name !== "" && (!NAME.test(name) || name === "." || name === "..");

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!name || invalid)
      return setError("Use 1 to 249 of A–Z, a–z, 0–9, dot, underscore and dash.");
    setBusy(true);
    const retentionMs = RETENTION[retention]?.ms;
    const failed = await topics.create({
      name,
      partitions,
      ...(retentionMs === undefined ? {} : { retentionMs }),
    });
    setBusy(false);
    setError(failed);
    if (!failed) onDone();
  }

  return (
    <form className="panel form-row" onSubmit={submit} aria-label="New topic">
      <Field label="Name" grow>
        <input
          value={name}
          onChange={(e) => setName(e.target.value.trim())}
          placeholder="e.g. orders"
          aria-invalid={invalid}
          // biome-ignore lint/a11y/noAutofocus: the form opens on request; typing the name is the next step.
          autoFocus
        />
      </Field>
      <Field label="Partitions">
        <input
          type="number"
          min={1}
          max={256}
          value={partitions}
          onChange={(e) => setPartitions(Math.max(1, Math.min(256, Number(e.target.value) || 1)))}
        />
      </Field>
      <Field label="Retention">
        <select value={retention} onChange={(e) => setRetention(Number(e.target.value))}>
          {RETENTION.map((r, i) => (
            <option key={r.label} value={i}>
              {r.label}
            </option>
          ))}
        </select>
      </Field>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        {busy ? "Creating…" : "Create topic"}
      </button>
      {(error || invalid) && (
        <div className="form-error" role="alert">
          {error ?? "Use 1 to 249 of A–Z, a–z, 0–9, dot, underscore and dash."}
        </div>
      )}
    </form>
  );
}
