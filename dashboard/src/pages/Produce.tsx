import { type FormEvent, useEffect, useState } from "react";
import { Denied } from "../components/Denied.tsx";
import { Field, TopicOptions } from "../components/Field.tsx";
import { Link } from "../components/Link.tsx";
import { formatTime } from "../format.ts";
import { useActions, useDash, useDenied } from "../hooks.ts";
import { tailHref } from "../store/route.ts";

const SAMPLE = '{\n  "event": "click",\n  "page": "/pricing",\n  "x": 412\n}';

/** The value as JSON, or why it is not. */
function parseValue(text: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export function Produce() {
  const { produce, topics } = useActions();
  const query = useDash((s) => s.route.query);
  const p = useDash((s) => s.produce);
  const [topic, setTopic] = useState(query.topic ?? "");
  const [key, setKey] = useState("");
  const [text, setText] = useState(SAMPLE);
  const [headers, setHeaders] = useState<Array<[string, string]>>([]);
  useEffect(() => {
    topics.load();
  }, [topics]);
  const parsed = parseValue(text);
  const cannot = useDenied("produce", topic || undefined);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!topic || parsed.error) return;
    const named = headers.filter(([k]) => k.trim());
    await produce({ topic, key, value: parsed.value, headers: Object.fromEntries(named) });
  }

  const setHeader = (i: number, at: 0 | 1, v: string) =>
    setHeaders(
      headers.map((h, j) =>
        j === i ? ((at === 0 ? [v, h[1]] : [h[0], v]) as [string, string]) : h,
      ),
    );

  return (
    <section className="page">
      <header className="page-head">
        <div>
          <h1>Produce</h1>
          <p className="muted">
            Send a test record. It is acknowledged once it is durable; unknown topics are created.
          </p>
        </div>
      </header>
      <div className="grid-produce">
        <form className="panel form-stack" onSubmit={submit} aria-label="Produce a record">
          <Field label="Topic" after={<TopicOptions id="produce-topics" />}>
            <input
              list="produce-topics"
              value={topic}
              onChange={(e) => setTopic(e.target.value.trim())}
              required
              placeholder="e.g. clicks"
            />
          </Field>
          <Field label="Key">
            <input
              value={key}
              onChange={(e) => setKey(e.target.value)}
              placeholder="user-42 (optional: picks the partition)"
            />
          </Field>
          <Field
            label="Value (JSON)"
            after={parsed.error && <span className="form-error">Not JSON: {parsed.error}</span>}
          >
            <textarea
              rows={8}
              value={text}
              spellCheck={false}
              onChange={(e) => setText(e.target.value)}
              aria-invalid={!!parsed.error}
              className="mono"
            />
          </Field>
          <fieldset className="field">
            <legend>Headers</legend>
            {headers.map(([k, v], i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their place.
              <div className="header-row" key={i}>
                <input
                  aria-label={`Header ${i + 1} name`}
                  value={k}
                  placeholder="name"
                  onChange={(e) => setHeader(i, 0, e.target.value)}
                />
                <input
                  aria-label={`Header ${i + 1} value`}
                  value={v}
                  placeholder="value"
                  onChange={(e) => setHeader(i, 1, e.target.value)}
                />
                <button
                  type="button"
                  className="btn btn-ghost"
                  aria-label={`Remove header ${i + 1}`}
                  onClick={() => setHeaders(headers.filter((_, j) => j !== i))}
                >
                  ✕
                </button>
              </div>
            ))}
            <button
              type="button"
              className="btn btn-ghost"
              onClick={() => setHeaders([...headers, ["", ""]])}
            >
              + Add header
            </button>
          </fieldset>
          <div className="form-foot">
            <button
              type="submit"
              className="btn btn-primary"
              disabled={!topic || !!parsed.error || p.sending || !!cannot}
              title={cannot ?? undefined}
            >
              {p.sending ? "Sending…" : "Send record"}
            </button>
            <Denied reason={cannot} />
            {p.error && (
              <span className="form-error" role="alert">
                {p.error}
              </span>
            )}
          </div>
        </form>
        <div className="panel">
          <h2>Sent</h2>
          {p.results.length === 0 ? (
            <p className="muted">
              Acknowledged records appear here with the partition and offset they got.
            </p>
          ) : (
            <ul className="sent" aria-label="Sent records">
              {p.results.map((r) => (
                <li key={`${r.topic}/${r.partition}/${r.offset}`} data-testid="produce-result">
                  <span className="ok" aria-hidden="true">
                    ✓
                  </span>
                  <span>
                    <strong>{r.topic}</strong> partition {r.partition}, offset {r.offset}
                    {r.key && <span className="muted"> · key {r.key}</span>}
                  </span>
                  <span className="muted">{formatTime(r.at)}</span>
                  <Link href={tailHref(r.topic, r.partition)}>Tail</Link>
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
    </section>
  );
}
