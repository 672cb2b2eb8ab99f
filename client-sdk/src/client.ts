/**
 * The client: one per application. It owns the sockets (one per partition, shared by the
 * producer and one subscription), topic metadata, the page's network and visibility events,
 * and the combined status shown to UIs.
 */
import { authHeaders, renewable, type TokenSource, type Tokens, tokens } from "./auth.ts";
import type { Ack } from "./batcher.ts";
import { closedError, KaitenClientError, lostError } from "./errors.ts";
import { combine, deferred, Emitter, State, type Status, same, sleep, status } from "./events.ts";
import {
  backoffDelay,
  Link,
  type LinkOptions,
  type LinkUser,
  type WebSocketClass,
} from "./link.ts";
import { Producer, type ProducerOptions, type TopicInfo } from "./producer.ts";
import { Reader } from "./reader.ts";
import { jsonSerde, type ProduceRecord, type Serde } from "./serde.ts";
import { type RecordCallback, type SubscribeOptions, Subscription } from "./subscription.ts";

export interface ClientOptions
  extends Partial<ProducerOptions>,
    Partial<Omit<LinkOptions, "WebSocket" | "tokens" | "lost">> {
  /** The broker's HTTP address, such as "https://kaiten.example.com" or "http://127.0.0.1:8787". */
  url: string;
  /**
   * A JWT (PROTOCOL.md §15), or a function returning one, sync or async. A function is
   * called at connect, before the token expires (read from its `exp`: a tenth of its life
   * and at least 3 s early; sockets then refresh in-band without dropping), and once more
   * when the broker refuses a token (401) before the SDK gives up. Sent as `Authorization:
   * Bearer` on HTTP and, on WebSockets, as `?token=` (and the header where the class takes
   * headers). Default: none
   */
  token?: TokenSource;
  /** A WebSocket class; pass `ws` on Node 20. Default: globalThis.WebSocket */
  WebSocket?: WebSocketClass;
  /** Default: globalThis.fetch */
  fetch?: typeof fetch;
  /** How values become bytes and back. Default: JSON, with Uint8Array and strings as raw bytes */
  serde?: Serde;
  /** Set to false for a producer without sequences (a retry may then store a batch twice). Default: true */
  idempotent?: boolean;
  /**
   * "websocket"; "sse": Server-Sent Events reads and HTTP produce (PROTOCOL.md §17.6), with
   * the same positions, sequences, errors and tokens; "auto": WebSockets, and the HTTP
   * transport for the rest of the client's life when there is no WebSocket class, or once two
   * sockets in a row closed before opening and then a probe socket failed too while the
   * broker answered plain HTTP (a proxy that breaks upgrades; README "Transports"). Default: "auto"
   */
  transport?: "auto" | "websocket" | "sse";
}

export interface ClientEvents {
  status: Status;
}

export class Client extends Emitter<ClientEvents> {
  /** Resolves once `close()` is done. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  /** The worst status of the client's sockets. */
  status: Status = status(State.Connecting);
  readonly #o: ClientOptions;
  /** @internal The options, for the entries built on the client (`/group`). */
  readonly options: ClientOptions;
  /** Every open link, each with the partition it serves. */
  #links: Array<[string, Link]> = [];
  readonly #topics = new Map<string, Promise<TopicInfo>>();
  readonly #subs = new Set<Subscription>();
  readonly #link: LinkOptions;
  readonly #tokens: Tokens;
  readonly #producer: Producer;
  readonly #end = deferred<undefined>();
  /** @internal */
  readonly serde: Serde;
  #requestId = 0;
  #closed = false;
  /** The HTTP transport (sse.ts) loading or loaded; unset again when a load after a loss failed. */
  #http: Promise<unknown> | undefined;
  /** Online or offline, visible, restored from the back-forward cache, resumed: retry and check sockets now. */
  readonly #wake = () => {
    if (globalThis.document?.visibilityState !== "hidden") for (const l of this.#all()) l.wake();
  };

  constructor(o: ClientOptions) {
    super();
    this.#o = this.options = o;
    this.closed = this.#end.promise;
    this.serde = o.serde ?? jsonSerde;
    this.#tokens = tokens(o.token);
    const t = o.transport;
    // "auto": a socket closed before opening. sse.ts, loaded then, decides when sockets use HTTP.
    const lost = (link?: Link) => {
      if (!(t === "websocket" || link?.isOpen)) this.#http ??= load(link);
    };
    // A load that failed (the broker that serves the chunk was down) is tried again at the next
    // loss; with no socket to lose (every socket must be HTTP), in 2 s, lookups waiting meanwhile.
    const load = (link?: Link): Promise<unknown> =>
      import("./sse.ts").then(
        (m) => m.use(this.#link),
        () => {
          if (!(link || this.#closed)) return sleep(2_000).then(() => load());
          this.#http = undefined;
        },
      );
    this.#link = {
      WebSocket: globalThis.WebSocket as WebSocketClass,
      pingIntervalMs: 15_000,
      pongTimeoutMs: 5_000,
      openTimeoutMs: 5_000,
      minDelayMs: 500,
      maxDelayMs: 15_000,
      random: Math.random,
      ...o,
      tokens: this.#tokens,
      lost,
    };
    if (t === "sse" || !this.#link.WebSocket) lost();
    this.#producer = new Producer(this, {
      lingerMs: 5,
      batchBytes: 262_144,
      maxQueued: 10_000,
      ...o,
      producerId: o.idempotent === false ? "" : (o.producerId ?? randomId()),
    });
    this.#listen("addEventListener");
  }

  /**
   * Sends records; resolves with each record's `{ partition, offset }`, in order, once the
   * broker acknowledged them as durable. Records are batched by `lingerMs` and `batchBytes`.
   * Rejects with a coded error for records that can never be sent (too large, refused).
   */
  produce(topic: string, records: ProduceRecord[]): Promise<Ack[]> {
    return this.#producer.produce(topic, records);
  }

  /** Sends open batches now; resolves once every record produced before is acknowledged or failed. */
  flush(): Promise<void> {
    return this.#producer.flush();
  }

  /** Reads a topic: iterate it with `for await`, or pass a callback. */
  subscribe<T = unknown>(
    topic: string,
    options: SubscribeOptions = {},
    callback?: RecordCallback<T>,
  ): Subscription<T> {
    const sub = new Subscription<T>(this, topic, options, callback);
    this.#subs.add(sub as Subscription);
    if (this.#closed) sub.close();
    return sub;
  }

  /** Closes every subscription and socket; records not yet acknowledged fail with CLIENT_CLOSED (flush() first to send them). */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#listen("removeEventListener");
      this.#producer.close(closedError());
      await Promise.all([...this.#subs].map((s) => s.close()));
      for (const l of this.#all()) l.close();
      this.#links = [];
      this.#setStatus(status(State.Closed));
      this.#end.resolve(undefined);
    }
    await this.closed;
  }

  #all(): Link[] {
    return this.#links.map((l) => l[1]);
  }

  /** An absolute URL of the broker (the token travels apart: links add it at each connect). */
  #url(path: string): URL {
    return new URL(`v1/topics/${path}`, this.#o.url.replace(/\/?$/, "/"));
  }

  #listen(method: "addEventListener" | "removeEventListener"): void {
    // "offline" too: a socket the network change killed is then found within pongTimeoutMs.
    for (const t of ["online", "offline", "pageshow"]) globalThis.window?.[method](t, this.#wake);
    for (const t of ["visibilitychange", "resume"]) globalThis.document?.[method](t, this.#wake);
  }

  /**
   * Partition count and record size limit from `GET /v1/topics/{t}?create=true` (§11.1),
   * which creates the topic as a Kafka metadata request does. Retried like a socket.
   */
  /** @internal The token to send now (from the token function when one is due). */
  async token(): Promise<string | undefined> {
    return this.#tokens.get();
  }

  /** @internal */
  nextRequestId(): number {
    this.#requestId = (this.#requestId % 0xffff_fffe) + 1;
    return this.#requestId;
  }

  /** @internal */
  backoff(attempt: number): number {
    return backoffDelay(attempt, this.#link);
  }

  /** @internal */
  forget(sub: Subscription): void {
    this.#subs.delete(sub);
  }

  /** @internal */
  topicInfo(name: string): Promise<TopicInfo> {
    let info = this.#topics.get(name);
    if (!info) {
      info = this.#fetchTopic(name);
      this.#topics.set(name, info);
      // A failed lookup is not kept: the next call asks again.
      info.catch(() => this.#topics.delete(name));
    }
    return info;
  }

  async #fetchTopic(name: string): Promise<TopicInfo> {
    // Every link is made after its topic's lookup: with the HTTP transport loading, after it.
    await this.#http;
    const url = this.#url(`${encodeURIComponent(name)}?create=true`);
    let refused: string | undefined;
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      let e: KaitenClientError;
      let token: string | undefined;
      try {
        token = await this.#tokens.get(refused);
        const res = await (this.#o.fetch ?? fetch)(url, { headers: authHeaders(token) });
        const body = await res.json();
        if (res.ok) return body;
        e = new KaitenClientError(body.error.code, body.error.message);
      } catch (error) {
        e = lostError(error);
      }
      // A refused token: ask for a new one, once, then give up (PROTOCOL.md §15.3).
      if (renewable(e.code) && this.#tokens.renews && !renewed) {
        renewed = true;
        refused = token;
        continue;
      }
      if (!e.retriable) throw e;
      await sleep(this.backoff(attempt));
      if (this.#closed) throw closedError();
    }
  }

  /** A socket for the partition: the shared one, or a new one when a reader needs its own (one subscription per socket, §3.1). */
  /** @internal */
  link(topic: string, partition: number, user: LinkUser, reader?: boolean): Link {
    const path = `${encodeURIComponent(topic)}/partitions/${partition}/ws`;
    const found = this.#links.find(
      ([p, l]) => p === path && (!reader || ![...l.users].some((u) => u instanceof Reader)),
    );
    let link = found?.[1];
    if (!link) {
      const url = this.#url(path);
      url.protocol = url.protocol.replace("http", "ws");
      link = new Link(url.href, this.#link, () => this.#refresh());
      this.#links.push([path, link]);
    }
    user.link = link;
    link.users.add(user);
    if (link.isOpen) user.opened();
    else if (!found) link.connect();
    return link;
  }

  /** @internal */
  release(link: Link | undefined, user: LinkUser): void {
    if (!link?.users.delete(user) || link.users.size) return;
    link.close();
    this.#links = this.#links.filter((l) => l[1] !== link);
  }

  #refresh(): void {
    if (!this.#closed)
      this.#setStatus(
        combine(
          this.#all().map((l) => l.status),
          this.status,
        ),
      );
  }

  #setStatus(next: Status): void {
    if (same(next, this.status)) return;
    this.status = next;
    this.emit("status", next);
  }
}

/** A producer id (opaque, at most 64 bytes). randomUUID is missing outside secure contexts (a plain-http page). */
const randomId = (): string => crypto.randomUUID?.() ?? `${Math.random()}${Date.now()}`;

export function createClient(options: ClientOptions): Client {
  return new Client(options);
}
