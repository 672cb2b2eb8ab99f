/**
 * The live tail: one SDK subscription, shown as a bounded window of the newest records.
 * At thousands of records a second the screen cannot show them all: records are counted as
 * they come, but only the newest TAIL_WINDOW of each animation frame are formatted and kept.
 * Pausing is the SDK's backpressure: the record callback returns a promise that resolves on
 * resume, so the broker stops sending (credit runs out) and nothing is dropped or buffered
 * without bound; resume carries on from the same offset.
 */
import type { Client, Rec, SubscribeOptions, Subscription } from "@kaiten/client";
import { perFrame } from "./frame.ts";
import { type DashboardStore, patch, type TailOptions, type TailRecord } from "./state.ts";

/** Records kept and rendered. */
export const TAIL_WINDOW = 100;
/**
 * At most five screen updates a second. A record still shows within 0.2 s, and a firehose
 * costs five renders of the window a second instead of sixty. Each render of a fully replaced
 * 100-row window costs tens of ms on a slow core, so at 2,000 records/s this is what keeps the
 * page near a quarter of a core rather than saturating it (test/dashboard/figures.test.ts).
 */
const FLUSH_MS = 200;

export interface TailActions {
  start(options: TailOptions): void;
  pause(): void;
  resume(): void;
  stop(): void;
  clear(): void;
}

export function tailActions(store: DashboardStore, client: Client): TailActions {
  let sub: Subscription | undefined;
  let resumed: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Records taken since the last frame, oldest first (trimmed to the window as they come). */
  let pending: Rec[] = [];
  let received = 0;
  /** (time, received) a second or so ago, for the rate. */
  let mark = { at: 0, received: 0 };
  let ticker: ReturnType<typeof setInterval> | undefined;

  const flush = perFrame(() => {
    if (!sub) return;
    const fresh = pending.slice(-TAIL_WINDOW).reverse().map(toTailRecord);
    pending = [];
    const records = fresh.length
      ? [...fresh, ...store.getState().tail.records].slice(0, TAIL_WINDOW)
      : store.getState().tail.records;
    const now = performance.now();
    const rate =
      now - mark.at >= 1_000 ? ((received - mark.received) * 1_000) / (now - mark.at) : null;
    if (rate !== null) mark = { at: now, received };
    patch(store, "tail", { records, received, ...(rate === null ? {} : { rate }) });
  }, FLUSH_MS);

  function accept(sub0: Subscription, rec: Rec): void {
    if (sub0 !== sub) return;
    pending.push(rec);
    if (pending.length > 2 * TAIL_WINDOW) pending = pending.slice(-TAIL_WINDOW);
    received++;
    flush();
  }

  const actions: TailActions = {
    start(options) {
      actions.stop();
      received = 0;
      mark = { at: performance.now(), received: 0 };
      patch(store, "tail", {
        options,
        status: "starting",
        records: [],
        received: 0,
        rate: 0,
        error: null,
      });
      const opts = subscribeOptions(options, store.getState().topics.list);
      const mine: Subscription = client.subscribe(options.topic, opts, (rec) =>
        resumed ? resumed.promise.then(() => accept(mine, rec)) : accept(mine, rec),
      );
      sub = mine;
      mine.ready().then(
        () =>
          sub === mine &&
          store.getState().tail.status === "starting" &&
          patch(store, "tail", { status: "live" }),
        () => {},
      );
      mine.on("reset", (r) =>
        note(
          `partition ${r.partition}: that position is not in the log; reading from its earliest offset`,
        ),
      );
      mine.on("gap", (g) =>
        note(`partition ${g.partition}: offsets ${g.from}–${g.to - 1} were removed by retention`),
      );
      mine.closed.then((error) => {
        if (sub !== mine || !error) return;
        patch(store, "tail", { status: "ended", error: error.message });
      });
      // The rate falls back to 0 when records stop coming.
      ticker = setInterval(flush, 1_000);
    },
    pause() {
      if (!sub || resumed) return;
      let resolve = () => {};
      const promise = new Promise<void>((r) => (resolve = r));
      resumed = { promise, resolve };
      patch(store, "tail", { status: "paused" });
    },
    resume() {
      resumed?.resolve();
      resumed = undefined;
      if (sub) patch(store, "tail", { status: "live" });
    },
    stop() {
      clearInterval(ticker);
      const old = sub;
      sub = undefined;
      resumed?.resolve();
      resumed = undefined;
      pending = [];
      old?.close();
      if (old) patch(store, "tail", { status: "idle", rate: 0 });
    },
    clear() {
      patch(store, "tail", { records: [] });
    },
  };

  function note(message: string): void {
    patch(store, "tail", { error: message });
  }
  return actions;
}

/** The SDK's options for the form's choices. */
export function subscribeOptions(
  o: TailOptions,
  topics: Array<{ name: string; partitions: number }> | null,
): SubscribeOptions {
  const count = topics?.find((t) => t.name === o.topic)?.partitions ?? 1;
  const partitions = o.partition === null ? undefined : [o.partition];
  const offsets: Record<number, number> = {};
  for (const p of partitions ?? Array.from({ length: count }, (_, i) => i)) offsets[p] = o.offset;
  const from: SubscribeOptions["from"] =
    o.from === "offset" ? { offsets } : o.from === "time" ? { timestamp: o.time } : o.from;
  return { from, ...(partitions ? { partitions } : {}), ...(o.key ? { key: o.key } : {}) };
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/** Values whose one-line form fits this many characters stay on one line. */
const ONE_LINE = 100;

/**
 * A value as text: JSON pretty-printed, bytes as UTF-8 text, or as hex when they are not text.
 * Like Node's util.inspect, a small value stays on one line, spaced (`{ "page": "/", "x": 3 }`),
 * so a screen of the tail shows many records; a larger one is indented over several lines.
 */
export function formatValue(value: unknown): string {
  if (value instanceof Uint8Array) {
    try {
      return decoder.decode(value);
    } catch {
      const hex = Array.from(value.subarray(0, 256), (b) => b.toString(16).padStart(2, "0"));
      return `0x${hex.join(" ")}${value.length > 256 ? ` … (${value.length} bytes)` : ""}`;
    }
  }
  const oneLine = JSON.stringify(value, null, 1)?.replace(/\n\s*/g, " ");
  if (oneLine === undefined) return String(value);
  return oneLine.length <= ONE_LINE ? oneLine : JSON.stringify(value, null, 2);
}

function toTailRecord(r: Rec): TailRecord {
  return {
    id: `${r.partition}:${r.offset}`,
    partition: r.partition,
    offset: r.offset,
    key: r.key,
    timestamp: r.timestamp,
    value: formatValue(r.value),
    headers: Object.entries(r.headers),
  };
}
