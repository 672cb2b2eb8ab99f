/**
 * @kaiten/client/track: click and event tracking for web pages, through the HTTP produce
 * endpoint (PROTOCOL.md §11.2). Events gather in memory for `sealMs`, then become a batch
 * written to an IndexedDB outbox; batches are sent every few seconds with `fetch(keepalive)`
 * and, when the page is hidden or closed, with `navigator.sendBeacon`. A batch is never
 * changed once written. Each batch carries
 * its own producer identity (a unique id, sequence 0), so every copy of it (beacon, retry,
 * a later page sending what an earlier one left in the outbox, another tab) is stored once,
 * in whatever order the copies arrive.
 *
 * With a site key (PROTOCOL.md §15.5) the broker checks the page's origin and a rate: over the
 * rate (429) the tracker waits out `Retry-After`, and when refused (401, 403) it stops
 * sending; either way the batches stay in the outbox, so nothing is dropped.
 *
 *   const tracker = createTracker({ url: "https://kaiten.example.com", topic: "clicks", autocapture: true });
 *   tracker.track("signup", { plan: "pro" });
 */
import { Outbox, type Row } from "./outbox.ts";

export interface TrackerOptions {
  /** The broker's HTTP address. */
  url: string;
  topic: string;
  /**
   * A site key (`pk_…`, from `POST /v1/site-keys`): public, produce-only, valid from the
   * origins it names. Sent as `?key=`. Needed by a broker with auth on. Default: none
   */
  siteKey?: string;
  /** Called once when the broker refuses the tracker (401 or 403): it then stops sending. Default: none */
  onRefused?: (error: TrackerError) => void;
  /** How often batches are sent, in ms. Default: 3_000 */
  flushIntervalMs?: number;
  /** How long events gather before they are written to the outbox as a batch, in ms. Default: 250 */
  sealMs?: number;
  /** Events per batch; a full batch is sent at once. Keep batches under the 64 KiB beacon limit. Default: 50 */
  maxBatch?: number;
  /** Track every click: element path, text and page URL. Default: false */
  autocapture?: boolean;
  /** The IndexedDB database of the outbox. Default: "kaiten-track" */
  database?: string;
}

/** A refusal of the broker, from its error body (PROTOCOL.md §8). */
export interface TrackerError {
  status: number;
  /** FORBIDDEN (wrong origin, topic or key), UNAUTHENTICATED (unknown or revoked key)... */
  code: string;
  message: string;
}

export interface Tracker {
  /** Records an event with properties; the page URL is added. */
  track(event: string, props?: Record<string, unknown>): void;
  /** Seals open events and sends every batch not yet stored; resolves when each was answered or failed. */
  flush(): Promise<void>;
  /** Flushes, then stops the timer and listeners. */
  close(): Promise<void>;
  /** The refusal that stopped sending, if any; the outbox keeps every batch. */
  readonly refused: TrackerError | undefined;
}

interface TrackEvent {
  value: { event: string; url: string; props: Record<string, unknown> };
  timestamp: number;
}

export function createTracker(o: TrackerOptions): Tracker {
  const url = new URL(
    `v1/topics/${encodeURIComponent(o.topic)}/records`,
    o.url.replace(/\/?$/, "/"),
  );
  if (o.siteKey) url.searchParams.set("key", o.siteKey);
  const endpoint = url.href;
  const outbox = new Outbox(o.database ?? "kaiten-track");
  const page = Math.random().toString(36).slice(2) + Date.now().toString(36);
  const rows = new Map<string, Row>();
  const sending = new Set<string>();
  let open: TrackEvent[] = [];
  let batches = 0;
  let sealTimer: ReturnType<typeof setTimeout> | undefined;
  /** Nothing is sent before this time (ms): the broker asked to wait (429 and Retry-After). */
  let waitUntil = 0;
  let refused: TrackerError | undefined;
  const held = () => refused || Date.now() < waitUntil;

  const seal = () => {
    clearTimeout(sealTimer);
    sealTimer = undefined;
    if (!open.length) return;
    const id = `${page}.${batches++}`;
    const row = {
      id,
      url: endpoint,
      body: JSON.stringify({ records: open, producerId: id, producerEpoch: 0, sequence: 0 }),
    };
    open = [];
    rows.set(id, row);
    outbox.put(row);
  };

  const send = async (row: Row) => {
    if (sending.has(row.id) || held()) return;
    sending.add(row.id);
    try {
      // text/plain is a simple request: no CORS preflight, and it survives unload with keepalive.
      const res = await fetch(row.url, {
        method: "POST",
        body: row.body,
        keepalive: true,
        headers: { "content-type": "text/plain" },
      });
      const status = res.status;
      if (status === 429) {
        // Retry-After is in seconds; without it, wait a flush interval.
        waitUntil = Date.now() + (Number(res.headers.get("retry-after")) || 3) * 1_000;
      } else if (status === 401 || status === 403) {
        // The key is unknown, revoked, or not for this origin or topic: retrying cannot help,
        // but the batches stay in the outbox for a page that may send them (a fixed key).
        if (!refused) {
          const body = await res.json().catch(() => ({}));
          refused = {
            status,
            code: body.error?.code ?? String(status),
            message: body.error?.message ?? "",
          };
          o.onRefused?.(refused);
        }
      } else if (status < 500) {
        // Stored (or stored before: 409 DUPLICATE_TOO_OLD), or a batch that can never be stored.
        rows.delete(row.id);
        await outbox.delete(row.id);
      }
    } catch {
      // Offline or blocked: the next flush tries again.
    } finally {
      sending.delete(row.id);
    }
  };

  const flush = async () => {
    seal();
    await loaded;
    await Promise.all([...rows.values()].map(send));
  };

  /** The page may be gone after this: beacons leave even then. The rows stay in the outbox for the next page to confirm. */
  const hidden = (e: Event) => {
    // pagehide always; visibilitychange only to hidden (pagehide may come while still "visible").
    if (e.type !== "pagehide" && globalThis.document?.visibilityState !== "hidden") return;
    seal();
    if (held()) return;
    for (const row of rows.values()) {
      if (!sending.has(row.id) && !navigator.sendBeacon?.(row.url, row.body)) send(row);
    }
  };

  const click = (e: Event) => {
    const target = e.target as Element | null;
    if (target?.nodeType === 1)
      track("click", { path: pathOf(target), text: target.textContent?.trim().slice(0, 80) });
  };

  const track = (event: string, props: Record<string, unknown> = {}) => {
    open.push({ value: { event, url: globalThis.location?.href, props }, timestamp: Date.now() });
    if (open.length >= (o.maxBatch ?? 50)) flush();
    else sealTimer ??= setTimeout(seal, o.sealMs ?? 250);
  };

  // Batches an earlier page (or another tab) left behind.
  const loaded = outbox.all().then((left) => {
    for (const row of left) if (row.url === endpoint && !rows.has(row.id)) rows.set(row.id, row);
  });
  loaded.then(flush);
  const timer = setInterval(flush, o.flushIntervalMs ?? 3_000);
  const listen = (method: "addEventListener" | "removeEventListener") => {
    globalThis.window?.[method]("pagehide", hidden);
    globalThis.document?.[method]("visibilitychange", hidden);
    if (o.autocapture) globalThis.document?.[method]("click", click, true);
  };
  listen("addEventListener");

  return {
    track,
    flush,
    get refused() {
      return refused;
    },
    async close() {
      clearInterval(timer);
      clearTimeout(sealTimer);
      listen("removeEventListener");
      await flush();
    },
  };
}

/** A CSS-like path of an element: up to 5 ancestors, with ids and classes. */
function pathOf(el: Element): string {
  const parts: string[] = [];
  for (let n: Element | null = el; n && parts.length < 5; n = n.parentElement) {
    parts.unshift(
      n.tagName.toLowerCase() +
        (n.id ? `#${n.id}` : "") +
        [...n.classList].map((c) => `.${c}`).join(""),
    );
  }
  return parts.join(" > ");
}
