/**
 * The HTTP transport (PROTOCOL.md §17.6): a partition's "socket" made of plain HTTP requests,
 * for networks where WebSockets cannot open (proxies that break upgrades). It looks like a
 * WebSocket to the link that holds it and speaks the same frames (§5): SUBSCRIBE becomes a
 * read that says where reading starts and then a Server-Sent Events stream (§17.2), each
 * `records` event a RECORDS frame; PRODUCE becomes `POST /records` (§11.2) with the batch's
 * partition, producer id, epoch and sequence, its answer a PRODUCE_ACK or an ERROR. So the
 * readers, the batcher and the link keep every rule they have over WebSocket: positions,
 * gaps and resets, credit, sequences, retries, token refresh, backoff. Behind a proxy that
 * buffers responses (an SSE stream that delivers no byte), a partition reads by long-poll
 * (§17.1) instead, from the same positions.
 *
 * Loaded with a dynamic import, only by a client that uses it: the main entry stays small.
 */
import {
  type AuthFrame,
  type CreditFrame,
  decodeChunk,
  decodeFrame,
  ErrorCode,
  type ErrorName,
  encodeBatch,
  encodeFrame,
  FrameType,
  fromBase64,
  matches,
  PING,
  type ProduceFrame,
  type ServerFrame,
  StartFrom,
  SUBPROTOCOL,
  type SubscribeFrame,
  toBase64,
  ValueFormat,
  type WireRecord,
} from "@kaiten/protocol";
import { authHeaders } from "./auth.ts";
import type { ClientOptions } from "./client.ts";
import type { Link, LinkOptions, WebSocketClass, WebSocketLike } from "./link.ts";

/** SSE text kept while an event is incomplete: an event is one page of about 1 MiB of stored data (§17.2), more as JSON. */
export const MAX_PENDING = 8 * 1024 * 1024;
/** PRODUCE frames waiting behind the request in flight; the batcher keeps at most 5 in flight (batcher.ts). */
export const MAX_QUEUED = 16;
/** A stream with nothing at all (no event, no keep-alive) for this long is dead; keep-alives come at most 30 s apart (§17.2). */
const SILENCE_MS = 45_000;
/** A request (not a stream) unanswered for this long is lost: the socket drops and the link reconnects. */
const REQUEST_MS = 30_000;
/** The longest wait asked of a long-poll (§17.1), below REQUEST_MS. */
const POLL_WAIT_MS = 20_000;

type Json = Record<string, unknown>;
/**
 * Fields of the broker's JSON are read and written by string: the build renames internal
 * property names (scripts/build.mjs), and some of them (records, nextOffset, sequence...) are
 * also names in the JSON.
 */
const get = (o: unknown, k: string): unknown => (o as Json | undefined)?.[k];
const num = (o: unknown, k: string): number => get(o, k) as number;
const utf8 = new TextEncoder();
const strict = new TextDecoder("utf-8", { fatal: true });

/** The error of a JSON answer: `{error: {...}}` from a request, or the body itself from an SSE `error` event (§11.6). */
function errorOf(body: unknown): {
  code: ErrorName;
  message: string;
  retriable: boolean;
  detail: number;
} {
  const e = get(body, "error") ?? body;
  const code = get(e, "code") as ErrorName;
  const known = code in ErrorCode;
  return {
    code: known ? code : "INTERNAL",
    message: String(get(e, "message") ?? (known ? code : "unreadable answer")),
    retriable: known ? get(e, "retriable") === true : true,
    // OFFSET_OUT_OF_RANGE names the earliest offset, as the ERROR frame's detail does (§8).
    detail: num(e, "detail") ?? num(e, "earliestOffset") ?? 0,
  };
}

interface Sub {
  requestId: number;
  /** Bytes the reader may still be sent (§5.3): the stream is not read while it is spent. */
  credit: number;
  key: Uint8Array | null;
  stop: AbortController;
  wake?: (() => void) | undefined;
}

/**
 * The link's WebSocket class for the HTTP transport: requests go through `fetchFn`; `o` gives
 * the open timeout, which also bounds an SSE stream's first bytes.
 */
export function httpSocket(
  fetchFn: typeof fetch,
  o: Pick<LinkOptions, "openTimeoutMs">,
): WebSocketClass {
  /** Partitions (their URLs) whose SSE streams something on the way holds: read by long-poll for the client's life. */
  const polled = new Set<string>();
  return class HttpSocket implements WebSocketLike {
    binaryType = "arraybuffer";
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    /** `…/v1/topics/{t}/partitions/{p}`. */
    readonly #partitionUrl: string;
    readonly #topicUrl: string;
    /** The broker's `…/v1/` (under whatever path the client's url has). */
    readonly #v1: string;
    readonly #partition: number;
    #authorization: string | undefined;
    readonly #stop = new AbortController();
    #closed = false;
    #sub: Sub | undefined;
    /** PRODUCE requests in order, one in flight at a time: a later batch must never be stored before an earlier one. */
    #queue: Array<[number, string | ServerFrame]> = [];
    #sending = false;

    constructor(url: string, _protocol: string, o?: { headers: Record<string, string> }) {
      const u = new URL(url);
      u.protocol = u.protocol.replace("ws", "http");
      u.search = "";
      this.#partitionUrl = u.href.replace(/\/ws$/, "");
      this.#topicUrl = this.#partitionUrl.replace(/\/partitions\/\d+$/, "");
      this.#v1 = this.#topicUrl.replace(/topics\/[^/]+$/, "");
      this.#partition = Number(/\d+$/.exec(this.#partitionUrl)?.[0]);
      // The token travels as a header, never in the URL (§15.3).
      this.#authorization = o?.headers.authorization;
      this.#open().catch((e) => this.#drop(e));
    }

    /**
     * Opens as a WebSocket to the partition would, with the same refusals as a close with
     * 4000 + their code (§9), which the link reads as it reads the broker's: the topic and
     * partition must exist (`GET /v1/topics/{t}`), and the token must hold produce or
     * subscribe on the topic (§15.3; `GET /v1/auth` says which rights it holds).
     */
    async #open(): Promise<void> {
      const [res, body] = await this.#call(this.#topicUrl);
      if (this.#closed) return;
      if (!res.ok) return this.#refuse(body);
      if (this.#partition >= num(body, "partitionCount"))
        return this.#refuse({ code: "INVALID_PARTITION", message: "no such partition" });
      const [auth, who] = await this.#call(`${this.#v1}auth`);
      if (this.#closed) return;
      if (!auth.ok) return this.#refuse(who);
      const topic = decodeURIComponent(/[^/]+$/.exec(this.#topicUrl)?.[0] ?? "");
      const rights = String(get(who, "scope") ?? "").split(" ");
      const holds = (right: string) =>
        rights.some((r) => r.startsWith(`${right}:`) && matches(r.slice(right.length + 1), topic));
      if (get(who, "admin") !== true && !holds("produce") && !holds("subscribe"))
        return this.#refuse({
          code: "FORBIDDEN",
          message: `the token has no produce or subscribe right on "${topic}"`,
        });
      this.onopen?.({});
    }

    send(data: string | Uint8Array): void {
      if (this.#closed) return;
      if (typeof data === "string") {
        // The link's keep-alive: a round trip to the broker (`GET /v1`), so a network that
        // passes nothing is found within pongTimeoutMs, as on WebSocket.
        if (data === PING)
          this.#call(this.#v1.slice(0, -1)).then(
            ([res]) => res.ok && this.#later("pong"),
            () => {},
          );
        return;
      }
      const f = decodeFrame(data);
      if (f.type === FrameType.Produce) this.#produce(f);
      else if (f.type === FrameType.Subscribe) this.#subscribe(f);
      else if (f.type === FrameType.Credit) this.#credit(f);
      else if (f.type === FrameType.Unsubscribe) {
        this.#end();
        this.#later(encodeFrame({ type: FrameType.Unsubscribed, requestId: f.requestId }));
      } else if (f.type === FrameType.Auth) this.#auth(f);
    }

    /** Closed by the link: nothing more is sent or heard. */
    close(): void {
      this.#closed = true;
      this.#end();
      this.#stop.abort();
      this.#queue = [];
    }

    /** A new token (§15.4): every request from now on carries it; a stream open on the old one ends with it and reopens. */
    #auth(f: AuthFrame): void {
      this.#authorization = `Bearer ${f.token}`;
      this.#later(encodeFrame({ type: FrameType.Authed, requestId: f.requestId, expiresAt: 0 }));
    }

    #deliver(frame: ServerFrame): void {
      if (!this.#closed) this.onmessage?.({ data: encodeFrame(frame) });
    }

    /** An answer to a frame the link is still sending: after it returns. */
    #later(data: string | Uint8Array): void {
      queueMicrotask(() => this.#closed || this.onmessage?.({ data }));
    }

    /**
     * A request with the current token; the answer's JSON (undefined when it has none). It
     * ends with the socket (or `stop`), and fails after REQUEST_MS.
     */
    async #call(
      url: string,
      init: RequestInit = {},
      stop = this.#stop.signal,
    ): Promise<[Response, unknown]> {
      const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
      if (this.#authorization) headers.authorization = this.#authorization;
      const ctl = new AbortController();
      const abort = () => ctl.abort();
      stop.addEventListener("abort", abort);
      const timer = setTimeout(abort, REQUEST_MS);
      try {
        const res = await fetchFn(url, { ...init, headers, signal: ctl.signal });
        return [res, await res.json().catch(() => undefined)];
      } finally {
        clearTimeout(timer);
        stop.removeEventListener("abort", abort);
      }
    }

    /** The network failed or the answer was not the broker's: the socket is lost, the link reconnects. */
    #drop(error: unknown): void {
      this.#close(1006, String(error));
    }

    /** Refused as a socket would be (§9): 401s, and refusals at open. */
    #refuse(body: unknown): void {
      const e = errorOf(body);
      this.#close(4000 + ErrorCode[e.code], e.message);
    }

    #close(code: number, reason: string): void {
      if (this.#closed) return;
      const onclose = this.onclose;
      this.close();
      onclose?.({ code, reason });
    }

    /** An answer that is not the broker's JSON (a proxy's page, a cut connection) is a lost socket; a 401 is a refused one. */
    #failed(res: Response, body: unknown): boolean {
      if (body === undefined) this.#drop(`HTTP ${res.status}`);
      else if (res.status === 401) this.#refuse(body);
      else return false;
      return true;
    }

    #produce(f: ProduceFrame): void {
      let body: string | ServerFrame;
      try {
        const records = decodeChunk(f.batch).map((r) => ({
          // Keys travel as text (§11.2): a key that is not UTF-8 cannot be sent over HTTP.
          key: r.key && strict.decode(r.key),
          ...(r.format === ValueFormat.Json
            ? { value: JSON.parse(strict.decode(r.value)) }
            : { valueBase64: toBase64(r.value) }),
          headers: Object.fromEntries(r.headers),
          timestamp: r.timestamp,
        }));
        const fields: Array<[string, unknown]> = [
          ["records", records],
          ["partition", this.#partition],
        ];
        if (f.producerId)
          fields.push(
            ["producerId", f.producerId],
            ["producerEpoch", f.producerEpoch],
            ["sequence", f.sequence],
          );
        body = JSON.stringify(Object.fromEntries(fields));
      } catch (error) {
        body = {
          type: FrameType.Error,
          requestId: f.requestId,
          code: "INVALID_REQUEST",
          retriable: false,
          detail: 0,
          message: `not sendable over HTTP: ${error}`,
        };
      }
      if (this.#queue.length >= MAX_QUEUED) {
        this.#drop("too many produce requests queued");
        return;
      }
      this.#queue.push([f.requestId, body]);
      if (!this.#sending) this.#send().catch((e) => this.#drop(e));
    }

    /**
     * Sends the queue in order. A request whose answer is lost drops the socket: the batcher
     * sends the batch again with the same sequence, and the broker stores it once (§6).
     */
    async #send(): Promise<void> {
      this.#sending = true;
      for (let next = this.#queue[0]; next && !this.#closed; next = this.#queue[0]) {
        const [requestId, body] = next;
        let answer: ServerFrame = body as ServerFrame;
        if (typeof body === "string") {
          const [res, json] = await this.#call(`${this.#topicUrl}/records`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body,
          });
          if (this.#closed || this.#failed(res, json)) break;
          const offsets = get(json, "offsets") as Json[] | undefined;
          answer = res.ok
            ? {
                type: FrameType.ProduceAck,
                requestId,
                baseOffset: num(offsets?.[0], "offset"),
                count: offsets?.length ?? 0,
                epoch: 0,
                duplicate: false,
              }
            : { type: FrameType.Error, requestId, ...errorOf(json) };
        }
        this.#queue.shift();
        // After a refusal the batcher sends the later batches again itself, in order, with new
        // request ids (batcher.ts): sending them now could store them before the refused one.
        if (answer.type === FrameType.Error) this.#queue = [];
        this.#deliver(answer);
      }
      this.#sending = false;
    }

    #credit(f: CreditFrame): void {
      const s = this.#sub;
      if (!s) return;
      s.credit += f.credit;
      s.wake?.();
    }

    #end(): void {
      this.#sub?.stop.abort();
      this.#sub?.wake?.();
      this.#sub = undefined;
    }

    #subscribe(f: SubscribeFrame): void {
      this.#end();
      const s: Sub = {
        requestId: f.requestId,
        credit: f.credit,
        key: f.key,
        stop: new AbortController(),
      };
      this.#sub = s;
      this.#follow(s, f).catch((e) => this.#sub === s && this.#drop(e));
    }

    /** The subscription's answer to the reader: an ERROR frame, after which the reader decides (gap, reset, retry, fail). */
    #refused(s: Sub, body: unknown): void {
      this.#end();
      this.#deliver({ type: FrameType.Error, requestId: s.requestId, ...errorOf(body) });
    }

    /**
     * SUBSCRIBE (§5.2): a one-record read says where reading starts and answers as SUBSCRIBE
     * does (416 OFFSET_OUT_OF_RANGE with the earliest offset, 409 EPOCH_MISMATCH); then SSE
     * from there, reopened from the last page's `nextOffset` whenever the server ends it.
     */
    async #follow(s: Sub, f: SubscribeFrame): Promise<void> {
      const from =
        f.from === StartFrom.Offset
          ? `&offset=${f.position}`
          : f.from === StartFrom.Timestamp
            ? `&timestamp=${f.position}`
            : "";
      const url = `${this.#partitionUrl}/records?limit=1${from}${f.epoch ? `&epoch=${f.epoch}` : ""}`;
      const [res, page] = await this.#call(url, {}, s.stop.signal);
      if (s !== this.#sub || this.#failed(res, page)) return;
      if (!res.ok) return this.#refused(s, page);
      let epoch = num(page, "epoch");
      const first = get((get(page, "records") as Json[])[0], "offset") as number | undefined;
      let at =
        f.from === StartFrom.Offset
          ? f.position
          : f.from === StartFrom.Latest
            ? num(page, "highWatermark")
            : f.from === StartFrom.Timestamp
              ? (first ?? num(page, "nextOffset"))
              : num(page, "earliestOffset");
      this.#deliver({
        type: FrameType.Subscribed,
        requestId: s.requestId,
        epoch,
        startOffset: at,
        earliestOffset: num(page, "earliestOffset"),
        highWatermark: num(page, "highWatermark"),
      });
      for (;;) {
        const opened = Date.now();
        const poll = polled.has(this.#partitionUrl);
        const next = await (poll ? this.#poll(s, at, epoch) : this.#sse(s, at, epoch));
        if (!next || s !== this.#sub) return;
        [at, epoch] = next;
        // The server ends each stream after 5 minutes or at the token's expiry (§17.2);
        // one that ends at once is not reopened faster than its `retry: 1000` asks. A
        // long-poll waits at the broker instead.
        const wait = 1_000 - (Date.now() - opened);
        if (!poll && wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (s !== this.#sub) return;
      }
    }

    /**
     * One SSE response from `at`: where the next read starts, or nothing when the
     * subscription ended here. The broker writes `retry: 1000` as soon as the stream starts
     * (§17.2): no byte within twice the open timeout means something on the way holds the
     * stream (a proxy that buffers responses until they end). The partition then reads by
     * long-poll, whose answers end and so get through, from the same position.
     */
    async #sse(s: Sub, at: number, epoch: number): Promise<[number, number] | undefined> {
      const ctl = new AbortController();
      const abort = () => ctl.abort();
      s.stop.signal.addEventListener("abort", abort);
      let held = false;
      const timer = setTimeout(() => {
        held = true;
        polled.add(this.#partitionUrl);
        abort();
      }, 2 * o.openTimeoutMs);
      try {
        const live = `${this.#partitionUrl}/records?live=sse&limit=1000&offset=${at}&epoch=${epoch}`;
        const res = await fetchFn(live, {
          headers: {
            accept: "text/event-stream",
            ...(this.#authorization ? { authorization: this.#authorization } : {}),
          },
          signal: ctl.signal,
        });
        if (s !== this.#sub) return;
        if (!res.ok || !res.body) {
          clearTimeout(timer);
          const body = await res.json().catch(() => undefined);
          if (s === this.#sub && !this.#failed(res, body)) this.#refused(s, body);
          return;
        }
        return await this.#stream(s, res.body, at, epoch, () => clearTimeout(timer));
      } catch (error) {
        // Held: nothing was read from this stream, so the long-poll starts where it would have.
        if (held && s === this.#sub) return [at, epoch];
        throw error;
      } finally {
        clearTimeout(timer);
        s.stop.signal.removeEventListener("abort", abort);
      }
    }

    /** One long-poll from `at` (§17.1): its page goes to the reader as a `records` event would. */
    async #poll(s: Sub, at: number, epoch: number): Promise<[number, number] | undefined> {
      const url = `${this.#partitionUrl}/records?live=long-poll&limit=1000&wait=${POLL_WAIT_MS}&offset=${at}&epoch=${epoch}`;
      const [res, page] = await this.#call(url, {}, s.stop.signal);
      if (s !== this.#sub || this.#failed(res, page)) return;
      // 416 and 409 as for SUBSCRIBE: the reader reports a gap or a reset and subscribes again.
      if (!res.ok) return void this.#refused(s, page);
      const next: [number, number] = [num(page, "nextOffset"), num(page, "epoch")];
      // An empty page: the wait ran out with nothing committed.
      if (!(get(page, "records") as Json[]).length) return next;
      return (await this.#page(s, page as Json)) ? next : undefined;
    }

    /** A page to the reader as a RECORDS frame, once it has credit (§5.3); false if the subscription ended meanwhile. */
    async #page(s: Sub, page: Json): Promise<boolean> {
      const frame = encodeFrame(this.#records(s, page));
      // With no credit left, nothing more is read (an SSE stream: TCP holds the broker back).
      while (s === this.#sub && s.credit <= 0) await new Promise<void>((r) => (s.wake = r));
      if (s !== this.#sub) return false;
      s.credit -= frame.length;
      this.onmessage?.({ data: frame });
      return true;
    }

    /**
     * Reads one SSE response; returns where the next one starts, or nothing when the
     * subscription ended here (an `error`, `gap` or `reset` event was handed to the reader).
     */
    async #stream(
      s: Sub,
      body: ReadableStream<Uint8Array>,
      at: number,
      epoch: number,
      bytes: () => void,
    ): Promise<[number, number] | undefined> {
      const reader = body.getReader();
      const text = new TextDecoder();
      let pending = "";
      let silence: ReturnType<typeof setTimeout> | undefined;
      const watch = () => {
        clearTimeout(silence);
        silence = setTimeout(() => {
          if (s === this.#sub) this.#drop("the event stream went silent");
        }, SILENCE_MS);
      };
      try {
        for (;;) {
          watch();
          const { done, value } = await reader.read();
          if (done || s !== this.#sub) return done ? [at, epoch] : undefined;
          bytes();
          pending += text.decode(value, { stream: true });
          for (let end = pending.indexOf("\n\n"); end >= 0; end = pending.indexOf("\n\n")) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            let type = "message";
            let data = "";
            for (const line of event.split("\n")) {
              if (line.startsWith("event:")) type = line.slice(6).trim();
              else if (line.startsWith("data:")) data += (data ? "\n" : "") + line.slice(5).trim();
            }
            if (!data) continue;
            const json = JSON.parse(data) as Json;
            if (type === "records") {
              [at, epoch] = [num(json, "nextOffset"), num(json, "epoch")];
              clearTimeout(silence);
              if (!(await this.#page(s, json))) return;
              watch();
            } else if (type === "gap") {
              // Records in [from, to) are gone (§12): the reader reports the gap and asks from `to`.
              return void this.#refused(s, {
                code: "OFFSET_OUT_OF_RANGE",
                message: "records removed by retention",
                retriable: false,
                earliestOffset: num(json, "to"),
              });
            } else if (type === "reset") {
              return void this.#refused(s, {
                code: "EPOCH_MISMATCH",
                message: "the log was recreated",
                detail: num(json, "epoch"),
              });
            } else if (type === "error") return void this.#refused(s, json);
          }
          if (pending.length > MAX_PENDING) throw new Error("an event of over 8 MiB");
        }
      } finally {
        clearTimeout(silence);
        reader.cancel().catch(() => {});
      }
    }

    /** A `records` event as a RECORDS frame; a key filter (§5.2) is applied here, as the broker does over WebSocket. */
    #records(s: Sub, page: Json): ServerFrame {
      const batches: Uint8Array[] = [];
      let run: WireRecord[] = [];
      let base = 0;
      const flush = () => run.length && batches.push(encodeBatch(run, base));
      for (const r of get(page, "records") as Json[]) {
        const k = get(r, "key");
        const kb = get(r, "keyBase64");
        const key =
          typeof k === "string" ? utf8.encode(k) : typeof kb === "string" ? fromBase64(kb) : null;
        if (s.key && !(key && same(key, s.key))) continue;
        const offset = num(r, "offset");
        // One batch per run of consecutive offsets: a batch's offsets are its base + index.
        if (run.length && offset !== base + run.length) {
          flush();
          run = [];
        }
        if (!run.length) base = offset;
        const b64 = get(r, "valueBase64");
        run.push({
          key,
          value:
            typeof b64 === "string"
              ? (fromBase64(b64) ?? new Uint8Array())
              : utf8.encode(JSON.stringify(get(r, "value"))),
          format: typeof b64 === "string" ? ValueFormat.Bytes : ValueFormat.Json,
          headers: Object.entries((get(r, "headers") ?? {}) as Record<string, string>),
          timestamp: num(r, "timestamp"),
        });
      }
      flush();
      const size = batches.reduce((n, b) => n + b.length, 0);
      const chunk = new Uint8Array(size);
      let p = 0;
      for (const b of batches) {
        chunk.set(b, p);
        p += b.length;
      }
      return {
        type: FrameType.Records,
        nextOffset: num(page, "nextOffset"),
        highWatermark: num(page, "highWatermark"),
        batches: chunk,
      };
    }
  };
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** What `use` reads and changes: the options every link of a client shares (link.ts), and the client's own. */
type Shared = LinkOptions & Partial<Pick<ClientOptions, "url" | "fetch" | "transport">>;

/**
 * Decides when a client's sockets use this transport (README "Transports", PROTOCOL.md
 * §17.6). With `transport: "sse"`, or no WebSocket class: now. Else ("auto", loaded after a
 * socket closed before opening): once two sockets in a row closed before opening (that one
 * counts), it checks, as Ably checks WebSocket connectivity before it falls back: one more
 * WebSocket to the same partition, and `GET /v1`. WebSockets are blocked on the way (a proxy
 * that breaks upgrades, or holds them unanswered) when the probe closes before opening (or has
 * not opened in twice `openTimeoutMs`: 10 s by default)
 * while plain HTTP reaches the broker: then the client moves to HTTP, for its life, and the
 * links waiting to reconnect retry at once. HTTP failing too means the network or the broker
 * is down; a probe that opens means the failures were the network's. Either way WebSockets
 * go on, and two more failures check again.
 */
export function use(o: Shared): void {
  const fetchFn = o.fetch ?? fetch;
  // Links whose last socket closed before opening: they wait to reconnect.
  const waiting = new Set<Link>();
  let switched = false;
  const switchOver = () => {
    switched = true;
    o.lost = () => {};
    o.WebSocket = httpSocket(fetchFn, o);
    for (const l of waiting) l.wake();
    waiting.clear();
  };
  if (o.transport === "sse" || !o.WebSocket) {
    switchOver();
    return;
  }
  let fails = 1;
  let checking = false;
  o.lost = (link) => {
    fails = link.isOpen ? 0 : fails + 1;
    if (link.isOpen) waiting.delete(link);
    else waiting.add(link);
    if (fails < 2 || checking) return;
    checking = true;
    const http = fetchFn(new URL("v1", `${o.url?.replace(/\/?$/, "/")}`))
      .then((res) => res.ok)
      .catch(() => false);
    Promise.all([http, upgradeFails(o, link.url)]).then(([answered, failed]) => {
      checking = false;
      // A socket that opened meanwhile (fails went back to 0) says WebSockets work.
      if (answered && failed && fails >= 2 && !switched) switchOver();
      fails = 0;
    });
  };
}

/** Whether one more WebSocket to `url` closes before it opens, or has not opened in twice the open timeout. */
async function upgradeFails(o: Shared, url: string): Promise<boolean> {
  let token: string | undefined;
  try {
    token = await o.tokens?.get();
  } catch {
    // No token, no socket on either transport: not a question of transports.
    return false;
  }
  return new Promise((resolve) => {
    let ws: WebSocketLike;
    try {
      ws = new o.WebSocket(token ? `${url}?token=${encodeURIComponent(token)}` : url, SUBPROTOCOL, {
        headers: authHeaders(token),
        perMessageDeflate: false,
      }) as WebSocketLike;
    } catch {
      return resolve(true);
    }
    const done = (failed: boolean) => {
      clearTimeout(timer);
      ws.onopen = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        // Already closed.
      }
      resolve(failed);
    };
    const timer = setTimeout(() => done(true), 2 * o.openTimeoutMs);
    ws.onopen = () => done(false);
    ws.onclose = () => done(true);
    // `ws` on Node throws an 'error' nobody listens to when a connecting socket is closed.
    ws.onerror = () => {};
  });
}
