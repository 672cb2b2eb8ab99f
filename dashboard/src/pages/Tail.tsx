import { type FormEvent, memo, useEffect, useState } from "react";
import { Denied } from "../components/Denied.tsx";
import { Empty } from "../components/Empty.tsx";
import { Field, TopicOptions } from "../components/Field.tsx";
import { formatCount, formatTime } from "../format.ts";
import { useActions, useDash, useDenied } from "../hooks.ts";
import type { StartFrom, TailOptions, TailRecord } from "../store/state.ts";
import { TAIL_WINDOW } from "../store/tail.ts";

const partitionNumbers = (n: number) => Array.from({ length: n }, (_, p) => p);

/** A datetime-local input's value for a time: local, to the minute. */
const localInput = (ms: number) =>
  new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function Tail() {
  const { tail, topics } = useActions();
  const query = useDash((s) => s.route.query);
  const current = useDash((s) => s.tail.options);
  useEffect(() => {
    topics.load();
  }, [topics]);
  // A link such as /tail?topic=clicks&partition=2 starts tailing that at once.
  // biome-ignore lint/correctness/useExhaustiveDependencies: only when the link changes.
  useEffect(() => {
    if (!query.topic) return;
    const partition = query.partition === undefined ? null : Number(query.partition);
    if (current?.topic === query.topic && current.partition === partition) return;
    tail.start({
      topic: query.topic,
      partition,
      key: "",
      from: "latest",
      offset: 0,
      time: Date.now() - 300_000,
    });
  }, [query.topic, query.partition]);
  return (
    <section className="page page-tail">
      <header className="page-head">
        <div>
          <h1>Live tail</h1>
          <p className="muted">
            Records as they are committed, newest first. The newest {TAIL_WINDOW} stay on screen.
          </p>
        </div>
      </header>
      <TailForm key={current ? `${current.topic}/${current.partition}` : ""} initial={current} />
      <TailBar />
      <TailRecords />
    </section>
  );
}

function TailForm({ initial }: { initial: TailOptions | null }) {
  const { tail, topics } = useActions();
  const list = useDash((s) => s.topics.list);
  const [topic, setTopic] = useState(initial?.topic ?? "");
  const [partition, setPartition] = useState(initial?.partition ?? null);
  const [key, setKey] = useState(initial?.key ?? "");
  const [from, setFrom] = useState<StartFrom>(initial?.from ?? "latest");
  const [offset, setOffset] = useState(initial?.offset ?? 0);
  const [time, setTime] = useState(initial?.time ?? Date.now() - 300_000);
  const count = list?.find((t) => t.name === topic)?.partitions ?? 0;
  const cannot = useDenied("subscribe", topic || undefined);

  const [missing, setMissing] = useState<string | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!topic) return;
    // A topic not listed yet may be new: reload the list. Subscribing to a name that does not
    // exist would create it (the SDK looks topics up as Kafka does); a tail should not.
    const known =
      list?.some((t) => t.name === topic) || (await topics.load()).some((t) => t.name === topic);
    setMissing(known ? null : topic);
    if (known) tail.start({ topic, partition, key, from, offset, time });
  }

  return (
    <form className="panel form-row" onSubmit={submit} aria-label="Tail options">
      <Field label="Topic" grow after={<TopicOptions id="tail-topics" />}>
        <input
          list="tail-topics"
          value={topic}
          onChange={(e) => setTopic(e.target.value.trim())}
          placeholder="e.g. clicks"
          required
        />
      </Field>
      <Field label="Partition">
        <select
          value={partition ?? ""}
          onChange={(e) => setPartition(e.target.value === "" ? null : Number(e.target.value))}
        >
          <option value="">All</option>
          {partitionNumbers(Math.max(count, (partition ?? -1) + 1)).map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Key">
        <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="any key" />
      </Field>
      <Field label="Start at">
        <select value={from} onChange={(e) => setFrom(e.target.value as StartFrom)}>
          <option value="latest">Latest</option>
          <option value="earliest">Earliest</option>
          <option value="offset">Offset…</option>
          <option value="time">Time…</option>
        </select>
      </Field>
      {from === "offset" && (
        <Field label="Offset">
          <input
            type="number"
            min={0}
            value={offset}
            onChange={(e) => setOffset(Math.max(0, Number(e.target.value)))}
          />
        </Field>
      )}
      {from === "time" && (
        <Field label="From time">
          <input
            type="datetime-local"
            value={localInput(time)}
            onChange={(e) => setTime(new Date(e.target.value).getTime() || Date.now())}
          />
        </Field>
      )}
      <button
        type="submit"
        className="btn btn-primary"
        disabled={!topic || !!cannot}
        title={cannot ?? undefined}
      >
        Start tail
      </button>
      <Denied reason={cannot} />
      {missing && (
        <div className="form-error" role="alert">
          There is no topic named “{missing}”. Create it on the Topics page, or produce to it.
        </div>
      )}
    </form>
  );
}

const STATUS = {
  idle: "Stopped",
  starting: "Subscribing",
  live: "Live",
  paused: "Paused",
  ended: "Stopped",
} as const;

function TailBar() {
  const { tail } = useActions();
  const t = useDash((s) => s.tail);
  const offline = useDash((s) => s.connection.unreachable);
  if (!t.options) return null;
  const paused = t.status === "paused";
  const running = t.status === "live" || t.status === "starting" || paused;
  // The SDK resubscribes from the tail's position once the broker is back.
  const waiting = running && offline;
  return (
    <div className="tail-bar">
      <span
        className={`pill pill-${paused || waiting ? "wait" : running ? "good" : "idle"}`}
        data-testid="tail-status"
      >
        <span className="dot" aria-hidden="true" />
        {waiting ? "Reconnecting" : STATUS[t.status]}
      </span>
      <span className="muted">
        <span data-testid="tail-received" data-value={t.received}>
          {formatCount(t.received)}
        </span>{" "}
        received · {formatCount(t.rate)}/s
      </span>
      {paused && (
        <span className="muted">New records wait at the broker; resume carries on from here.</span>
      )}
      <span className="spacer" />
      {running && (
        <button
          type="button"
          className="btn"
          onClick={() => (paused ? tail.resume() : tail.pause())}
        >
          {paused ? "Resume" : "Pause"}
        </button>
      )}
      <button
        type="button"
        className="btn"
        onClick={() => tail.clear()}
        disabled={!t.records.length}
      >
        Clear
      </button>
      {running ? (
        <button type="button" className="btn" onClick={() => tail.stop()}>
          Stop
        </button>
      ) : (
        <button type="button" className="btn" onClick={() => t.options && tail.start(t.options)}>
          Restart
        </button>
      )}
      {t.error && (
        <div className="tail-note" role="status">
          {t.error}
        </div>
      )}
    </div>
  );
}

function TailRecords() {
  const t = useDash((s) => s.tail);
  if (!t.options) {
    return (
      <div className="panel">
        <Empty title="Pick a topic to tail" icon="≋">
          Choose a topic above, optionally a partition, a key and where to start, then{" "}
          <strong>Start tail</strong>.
        </Empty>
      </div>
    );
  }
  if (!t.records.length) {
    return (
      <div className="panel">
        <Empty title={t.status === "starting" ? "Subscribing…" : "Waiting for records"} icon="…">
          {t.options.from === "latest"
            ? "Only records produced from now on appear. Send one from Produce, or start at Earliest to see what is stored."
            : "Nothing stored from that position yet; new records appear as they are committed."}
        </Empty>
      </div>
    );
  }
  return (
    <div className="records" role="log" aria-label={`Records of ${t.options.topic}`}>
      {t.records.map((r) => (
        <Row key={r.id} r={r} />
      ))}
    </div>
  );
}

/** One record; memoized, so each record is rendered once however long it stays in the window. */
const Row = memo(function Row({ r }: { r: TailRecord }) {
  return (
    <article
      className="rec"
      data-testid="tail-record"
      data-partition={r.partition}
      data-offset={r.offset}
    >
      <div className="rec-pos">
        <span className="rec-part">P{r.partition}</span>
        <span className="rec-off">{r.offset}</span>
      </div>
      <div className="rec-key">{r.key ?? <span className="muted">no key</span>}</div>
      <time className="rec-time" dateTime={new Date(r.timestamp).toISOString()}>
        {formatTime(r.timestamp)}
      </time>
      <div className="rec-body">
        <pre className="rec-value">{r.value}</pre>
        {r.headers.length > 0 && (
          <div className="rec-headers">
            {r.headers.map(([k, v]) => (
              <span key={k} className="chip">
                {k}: {v}
              </span>
            ))}
          </div>
        )}
      </div>
    </article>
  );
});
