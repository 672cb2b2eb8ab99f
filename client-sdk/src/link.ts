/**
 * One partition's WebSocket, kept open: capped exponential backoff with full jitter between
 * attempts, keep-alive pings that find a dead socket, and an immediate retry when the page
 * says the network or the tab is back. The producer and one subscription of a partition
 * share a link; each is a LinkUser that sends again what it needs whenever a socket opens.
 */
import { PING, type ServerFrame, SUBPROTOCOL } from "@kaiten/protocol";
import { authHeaders, renewable, type Tokens } from "./auth.ts";
import { AUTHED, ERROR } from "./codes.ts";
import { closeError, type KaitenClientError, lostError } from "./errors.ts";
import { State, type Status, status } from "./events.ts";
import { decodeServerFrame } from "./frames.ts";

/** The part of the WHATWG WebSocket the SDK uses; `ws` for Node provides it too. */
export interface WebSocketLike {
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
/** A WebSocket class: the global one, or `ws` on Node 20. The third argument carries options for `ws`. */
export type WebSocketClass = new (
  url: string,
  protocols: string,
  options?: { headers: Record<string, string>; perMessageDeflate?: boolean },
) => object;

export interface LinkOptions {
  WebSocket: WebSocketClass;
  /** Sent as `?token=` and as `Authorization: Bearer` where the WebSocket class takes headers (`ws`). Default: none */
  tokens?: Tokens | undefined;
  /** Send `ping` this often. Default: 15_000 (PROTOCOL.md §3.2 asks for 15 to 30 s) */
  pingIntervalMs: number;
  /** A socket that answers nothing for this long after a ping is dead. Default: 5_000 */
  pongTimeoutMs: number;
  /**
   * A socket not open this long after it was made is dropped and counts as one that closed
   * before opening (a proxy that holds the upgrade and never answers; "auto" then checks for
   * the HTTP transport). The bound grows by as much with each failed attempt in a row, so a
   * slow network still opens. Default: 5_000 (centrifuge-js's `timeout`, which bounds its connect)
   */
  openTimeoutMs: number;
  /** Cap of the first reconnect delay; the cap doubles per attempt. Default: 500 */
  minDelayMs: number;
  /** Largest reconnect delay. Default: 15_000 */
  maxDelayMs: number;
  /** Random number in [0, 1) for jitter. Default: Math.random */
  random: () => number;
  /** @internal Told of each socket's close, before the link forgets whether it had opened (the client's "auto" transport counts those that had not). */
  lost: (link: Link) => unknown;
}

export interface LinkUser {
  /** The link this user is on, set when it joins. */
  link?: Link;
  /** The socket opened (the first time or again): send what this user needs. */
  opened(): void;
  /** A frame from the broker; returns true when it belonged to this user. */
  frame(frame: ServerFrame, bytes: number): boolean;
  /** The socket dropped. Unless `fatal`, a new one follows and `opened` is called again. */
  dropped(error: KaitenClientError, fatal: boolean): void;
}

/** Full jitter: a random delay up to the capped exponential bound. */
export const backoffDelay = (attempt: number, o: LinkOptions): number =>
  Math.floor(o.random() * Math.min(o.maxDelayMs, o.minDelayMs * 2 ** attempt));

const noop = () => {};
type OnStatus = (link: Link) => void;

export class Link {
  readonly users = new Set<LinkUser>();
  status: Status = status(State.Connecting);
  isOpen = false;
  readonly url: string;
  readonly #o: LinkOptions;
  readonly #onStatus: OnStatus;
  #ws: WebSocketLike | undefined;
  #attempt = 0;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #ping: ReturnType<typeof setInterval> | undefined;
  #pong: ReturnType<typeof setTimeout> | undefined;
  /** @internal The in-band refresh's timer (renew.ts). */
  refresh: ReturnType<typeof setTimeout> | undefined;
  /** @internal The token of the current socket; the broker's refusal of it asks the token function for another. */
  bearer: string | undefined;
  #refused: string | undefined;
  /** A new token was asked for after a 401, and no socket has been healthy since: the next 401 is final. */
  #renewed = false;

  constructor(url: string, o: LinkOptions, onStatus: OnStatus) {
    this.url = url;
    this.#o = o;
    this.#onStatus = onStatus;
  }

  /** Opens a socket; called after the first user joined, and by each retry. */
  connect(): void {
    this.#retry = undefined;
    const token = this.#o.tokens?.get(this.#refused);
    this.#refused = undefined;
    if (!(token instanceof Promise)) this.#open(token);
    else
      token
        .then((t) => this.status.state !== State.Closed && this.#open(t))
        .catch((e) => this.#down(lostError(e)));
  }

  #open(token: string | undefined): void {
    this.bearer = token;
    const url = token ? `${this.url}?token=${encodeURIComponent(token)}` : this.url;
    // A constructor that throws (no WebSocket class on Node without the option) throws to the
    // produce or subscribe call that opened this link.
    const ws = new this.#o.WebSocket(url, SUBPROTOCOL, {
      headers: authHeaders(token),
      // `ws` offers permessage-deflate unless told not to, and the broker accepts it: every
      // frame would then be compressed by one side and inflated by the other, which cost
      // more CPU than anything else on the receive path. Browsers ignore this argument.
      perMessageDeflate: false,
    }) as WebSocketLike;
    this.#ws = ws;
    // Browsers hand binary messages over as Blobs unless told "arraybuffer". `ws` on Node (the
    // class with `terminate`) keeps its default, "nodebuffer", and hands over its Buffer instead
    // of copying each message into an ArrayBuffer. That value is never set: browsers would
    // ignore it, but Chromium warns about it on every page that sets it.
    if (!(ws as { terminate?: unknown }).terminate) ws.binaryType = "arraybuffer";
    ws.onopen = () => this.#opened();
    ws.onmessage = (e) => this.#message(e.data);
    // A refusal is an ERROR frame with request id 0 and then close code 4000 + its code (§9):
    // the close code alone says what the refusal was.
    const closed = (e: { code: number; reason: string }) => {
      this.#o.lost(this);
      this.#down(closeError(e.code, e.reason));
    };
    ws.onclose = closed;
    // Nothing else ends a handshake a proxy holds unanswered. The ping field holds this timer
    // until the socket opens, then the ping interval: clearTimeout clears either (one list of
    // timers in browsers and Workers, one Timeout class in Node).
    this.#ping = setTimeout(
      () => closed({ code: 1006, reason: "not open in time" }),
      this.#o.openTimeoutMs * (this.#attempt + 1),
    );
    // An error event is always followed by a close event, which does the work.
    ws.onerror = noop;
  }

  /** Sends a frame; false when no socket is open (the user sends again on `opened`). */
  send(frame: Uint8Array | string): boolean {
    // Only while open: the WHATWG WebSocket throws while connecting, and drops frames silently once closing.
    if (this.isOpen) this.#ws?.send(frame);
    return this.isOpen;
  }

  /**
   * The page came back (online, visible, restored from the back-forward cache): retry a
   * waiting reconnect now, and check an open socket at once instead of at the next ping.
   */
  wake(): void {
    if (this.#retry) {
      clearTimeout(this.#retry);
      this.connect();
    } else if (this.isOpen) this.#sendPing();
  }

  /** Closes for good (every user left, or the client closed). */
  close(): void {
    this.#detach(1000);
    this.#setStatus(status(State.Closed));
  }

  #opened(): void {
    clearTimeout(this.#ping);
    this.isOpen = true;
    this.#ping = setInterval(() => this.#sendPing(), this.#o.pingIntervalMs);
    this.#o.tokens?.watch?.(this);
    this.#setStatus(status(State.Open));
    for (const u of [...this.users]) u.opened();
  }

  #sendPing(): void {
    if (this.#pong || !this.send(PING)) return;
    this.#pong = setTimeout(() => this.#down(lostError("no pong")), this.#o.pongTimeoutMs);
  }

  #message(data: unknown): void {
    // Anything from the broker proves the socket alive, not only a pong.
    clearTimeout(this.#pong);
    this.#pong = undefined;
    if (typeof data === "string") return;
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data as ArrayBuffer);
    // AUTHED: the socket holds the new token (§15.4). A refused AUTH is an ERROR no user
    // claims; the old token then holds until the broker closes with TOKEN_EXPIRED.
    if (bytes[0] === AUTHED) {
      this.#attempt = 0;
      this.#renewed = false;
      this.#o.tokens?.watch?.(this);
      return;
    }
    let frame: ServerFrame;
    try {
      frame = decodeServerFrame(bytes);
    } catch (error) {
      console.error(error);
      return;
    }
    if (frame.type === ERROR) {
      // Request id 0: a refusal (the close code that follows carries it) or a frame of ours the broker could not read.
      if (!frame.requestId) return;
      // A healthy answer ends the backoff; a socket that opens and is refused must not.
    } else {
      this.#attempt = 0;
      this.#renewed = false;
    }
    for (const u of this.users) if (u.frame(frame, bytes.length)) return;
  }

  /** The socket is gone: tell the users, then retry unless the error says it is pointless. */
  #down(error: KaitenClientError, fatal = !error.retriable): void {
    const token = this.bearer;
    this.#detach();
    if (this.status.state === State.Closed) return;
    // A 401: the token function is asked once more, and the next socket opens at once.
    const renew = renewable(error.code) && this.#o.tokens?.renews && !this.#renewed;
    if (renew) {
      this.#renewed = true;
      this.#refused = token;
      fatal = false;
    }
    // The status first: users may release the link (and the client forget it) as they hear
    // of a fatal error, and the client's status must still show it (a refused token, say).
    if (fatal) this.#setStatus(status(State.Closed, 0, 0, error));
    for (const u of [...this.users]) u.dropped(error, fatal);
    if (fatal) return;
    const delay = renew ? 0 : backoffDelay(this.#attempt++, this.#o);
    this.#setStatus(status(State.Reconnecting, this.#attempt, delay, error));
    this.#retry = setTimeout(() => this.connect(), delay);
  }

  /** Forgets the socket so nothing from it is heard again: a link has at most one. */
  #detach(code?: number): void {
    const ws = this.#ws;
    clearTimeout(this.#retry);
    clearTimeout(this.#ping);
    clearTimeout(this.#pong);
    clearTimeout(this.refresh);
    this.#ws = this.#retry = this.#ping = this.#pong = this.refresh = undefined;
    this.isOpen = false;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    // `ws` for Node throws an unhandled 'error' when a connecting socket closes with no listener.
    ws.onerror = noop;
    // `ws` can drop a dead socket at once, where a closing handshake would wait 30 s for it.
    const terminate = (ws as { terminate?: () => void }).terminate;
    try {
      if (!code && terminate) terminate.call(ws);
      else ws.close(code ?? 1000);
    } catch {
      // Already closed.
    }
  }

  #setStatus(next: Status): void {
    this.status = next;
    this.#onStatus(this);
  }
}
