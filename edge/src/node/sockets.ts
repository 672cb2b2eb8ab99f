/**
 * The WebSocket protocol v1 on the Node host: the upgrade at
 * /v1/topics/{t}/partitions/{p}/ws checked by the core's `prepareSocket` (the same checks as
 * the Worker: subprotocol, rights, site-key admission, topic, partition), then each socket
 * handed to its partition's owner with its grant. Refusals are accepted and closed with an
 * ERROR frame and 4000 + the code, as the Worker does (§9, §15.3).
 */

import uws from "uWebSockets.js";
import {
  ErrorCode,
  errorFrame,
  type KaitenError,
  Limits,
  PING,
  PONG,
  SUBPROTOCOL,
} from "@kaiten/protocol";
import { expired, expiredError, grantGate, type SocketRights } from "../core/auth/socket-gate.ts";
import { type HttpHooks, prepareSocket } from "../core/http/api.ts";
import type { WebRequest } from "../core/http/web.ts";
import { asKaitenError, type SocketGate } from "../core/partition.ts";
import type { PeerSocket, SubscriptionState } from "../core/types.ts";
import type { PartitionOwner } from "./partitions.ts";
import type { NodePort } from "./port.ts";

/**
 * Bytes buffered for one socket past which records are no longer pushed to it: it is served
 * from the log when uWebSockets.js reports the buffer drained (core Fanout, `ready`).
 */
export const SOCKET_BUFFER_BYTES = 1_048_576;
/**
 * uWebSockets.js drops a send past this. Records stop at SOCKET_BUFFER_BYTES plus one frame;
 * the rest is room for acknowledgements to a producer that does not read them. A send that is
 * dropped anyway closes the socket (1008), so nothing is ever skipped silently.
 */
const MAX_BACKPRESSURE = 16 * 1_048_576;
/**
 * The largest message uWebSockets.js takes; past it, it closes the socket. Frames between
 * the protocol's limit (Limits.maxFrameBytes) and this reach the core, which answers
 * FRAME_TOO_LARGE and keeps the socket open, as the Worker does (§7); found by the fuzz suite
 * (a limit of exactly maxFrameBytes closed the socket with 1006 instead).
 */
const MAX_MESSAGE_BYTES = 2 * Limits.maxFrameBytes;
const CLOSE_GOING_AWAY = 1001;

type Route = { owner: PartitionOwner; rights: SocketRights } | { refusal: KaitenError };

interface SocketData {
  route: Route;
  peer?: NodePeer;
  gate?: SocketGate;
}

interface NodePeer extends PeerSocket {
  closed: boolean;
  /** Closes the socket when its token expires (§15.4). */
  expiry: NodeJS.Timeout | null;
}

/** What the upgrade request carries, read before any await (uWebSockets.js reuses `req`). */
interface Upgrade {
  url: string;
  query: string;
  key: string;
  protocol: string;
  extensions: string;
  headers: Headers;
}

/** Every open socket of the server, to close them with going-away (1001) on SIGTERM. */
export class Sockets {
  private readonly open = new Set<uws.WebSocket<SocketData>>();

  constructor(
    private readonly broker: NodePort,
    private readonly hooks: HttpHooks,
  ) {}

  /** Registers the WebSocket route on the app. */
  serve(app: uws.TemplatedApp): void {
    app.ws<SocketData>("/*", {
      compression: uws.DISABLED,
      maxPayloadLength: MAX_MESSAGE_BYTES,
      idleTimeout: 0,
      maxBackpressure: MAX_BACKPRESSURE,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => this.opened(ws),
      message: (ws, message, isBinary) => this.message(ws, message, isBinary),
      drain: (ws) => {
        const { route, peer } = ws.getUserData();
        if (peer && "owner" in route) route.owner.partition.drained(peer);
      },
      close: (ws) => this.closed(ws),
    });
  }

  /** Closes every socket with going-away (1001). */
  closeAll(): void {
    for (const ws of [...this.open]) {
      try {
        ws.end(CLOSE_GOING_AWAY, "server stopping");
      } catch {
        // Closed meanwhile.
      }
    }
  }

  private upgrade(res: uws.HttpResponse, req: uws.HttpRequest, context: uws.us_socket_context_t) {
    const headers = new Headers();
    req.forEach((k, v) => {
      headers.append(k, v);
    });
    const u: Upgrade = {
      url: req.getUrl(),
      query: req.getQuery() ?? "",
      key: req.getHeader("sec-websocket-key"),
      protocol: req.getHeader("sec-websocket-protocol"),
      extensions: req.getHeader("sec-websocket-extensions"),
      headers,
    };
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void this.route(u).then((target) => {
      if (aborted) return;
      const speaks = u.protocol.split(",").some((p) => p.trim() === SUBPROTOCOL);
      try {
        res.cork(() => {
          res.upgrade<SocketData>(
            { route: target },
            u.key,
            speaks ? SUBPROTOCOL : "",
            u.extensions,
            context,
          );
        });
      } catch (error) {
        // The connection went away between the check and the upgrade.
        console.error(`[kaiten:socket] upgrade of ${u.url} failed`, error);
      }
    });
  }

  /** Where a socket goes, as the Worker decides it (§9, §15.3): a partition, or a refusal. */
  private async route(u: Upgrade): Promise<Route> {
    try {
      const host = u.headers.get("host") || "localhost";
      const url = `http://${host}${u.url}${u.query ? `?${u.query}` : ""}`;
      // What prepareSocket reads of an upgrade (its URL and headers), without building a
      // whole fetch Request per connection.
      const request: WebRequest = {
        method: "GET",
        url,
        headers: u.headers as unknown as WebRequest["headers"],
        body: null,
        arrayBuffer: async () => new ArrayBuffer(0),
      };
      const s = await prepareSocket(request, this.broker, this.hooks);
      const owner = this.broker.partitions.get(s.topic.name, s.partition, s.ref.config);
      return { owner, rights: { grant: s.grant, produced: false } };
    } catch (error) {
      return { refusal: asKaitenError(error) };
    }
  }

  private opened(ws: uws.WebSocket<SocketData>): void {
    this.open.add(ws);
    const data = ws.getUserData();
    if ("refusal" in data.route) {
      // Accepted, then refused with an ERROR frame and 4000 + its number, as the Worker
      // does, so a browser (which cannot read a failed upgrade) learns why (§9).
      const e = data.route.refusal;
      ws.send(errorFrame(0, e), true);
      ws.end(4000 + ErrorCode[e.code], e.code);
      return;
    }
    const { owner, rights } = data.route;
    if (owner.isClosed) {
      // Its storage failed between the route and the upgrade (partitions.ts closes the other
      // sockets alike): the client comes back to the partition opened again from its file.
      ws.end(1011, "storage failure");
      return;
    }
    const peer = nodePeer(ws, owner, rights);
    data.peer = peer;
    data.gate = this.gate(ws, peer, owner, rights);
    if (rights.grant.expiresAt > 0) expireAt(peer, ws, rights.grant.expiresAt);
    owner.sockets.add(peer);
  }

  /** The socket's rights, checked by the core's session before each frame (§15). */
  private gate(
    ws: uws.WebSocket<SocketData>,
    peer: NodePeer,
    owner: PartitionOwner,
    rights: SocketRights,
  ): SocketGate {
    return grantGate({
      rights: () => rights,
      save: () => {},
      topic: () => owner.topic,
      settings: () => this.broker.settings.auth,
      now: Date.now,
      expire: () => expire(peer, ws),
      expiresAt: (at) => expireAt(peer, ws, at),
      siteKey: (id) => this.broker.siteKey(id),
      refuseProduce: () => owner.service.refuseIfClosed(),
    });
  }

  private message(ws: uws.WebSocket<SocketData>, message: ArrayBuffer, isBinary: boolean): void {
    const { route, peer, gate } = ws.getUserData();
    if (!peer || !gate || !("owner" in route)) return;
    const owner = route.owner;
    try {
      if (!isBinary) {
        const text = Buffer.from(message).toString();
        // Keep-alive, answered as the Durable Object runtime's auto-response does.
        if (text === PING) return void ws.send(PONG, false);
        void owner.partition.message(peer, text, gate);
        return;
      }
      // uWebSockets.js reuses the ArrayBuffer after this call; a produced batch waits for
      // its group commit, so the bytes are copied once here.
      void owner.partition.message(peer, new Uint8Array(message.slice(0)), gate);
    } catch (error) {
      owner.logError("message failed", error);
    }
  }

  private closed(ws: uws.WebSocket<SocketData>): void {
    this.open.delete(ws);
    const { route, peer } = ws.getUserData();
    if (!peer || !("owner" in route)) return;
    peer.closed = true;
    if (peer.expiry) clearTimeout(peer.expiry);
    try {
      route.owner.sockets.delete(peer);
    } finally {
      route.owner.partition.closed(peer);
    }
  }
}

/** Ends a socket whose rights ran out: ERROR TOKEN_EXPIRED, then close 4027 (§15.4). */
function expire(peer: NodePeer, ws: uws.WebSocket<SocketData>): void {
  if (peer.closed) return;
  const e = expiredError();
  peer.closed = true;
  try {
    ws.send(errorFrame(0, e), true);
    ws.end(4000 + ErrorCode[e.code], e.code);
  } catch {
    // Closed meanwhile.
  }
}

function expireAt(peer: NodePeer, ws: uws.WebSocket<SocketData>, at: number): void {
  if (peer.expiry) clearTimeout(peer.expiry);
  // setTimeout's longest delay is about 24.8 days; a token outliving it is checked per frame.
  const delay = Math.min(Math.max(0, at - Date.now()), 2 ** 31 - 1);
  peer.expiry = setTimeout(() => {
    peer.expiry = null;
    // Node's timers run on a monotonic clock and can fire a millisecond before Date.now()
    // reaches `at`: then look again, or an idle socket would never be closed.
    if (Date.now() >= at) expire(peer, ws);
    else expireAt(peer, ws, at);
  }, delay);
  peer.expiry.unref();
}

/** A PeerSocket over a uWebSockets.js socket; its subscription state lives with it. */
function nodePeer(
  ws: uws.WebSocket<SocketData>,
  owner: PartitionOwner,
  rights: SocketRights,
): NodePeer {
  let state: SubscriptionState | null = null;
  const peer: NodePeer = {
    closed: false,
    expiry: null,
    send: (frame) => {
      if (peer.closed) return;
      // Nothing is sent once the token has expired: the socket is closed instead.
      if (expired(rights.grant, Date.now())) return expire(peer, ws);
      if (ws.send(frame, true) === 2) {
        // Past maxBackpressure uWebSockets.js dropped the frame: never skip silently.
        owner.logError("send buffer overflow; closing the socket");
        ws.end(1008, "send buffer overflow");
      }
    },
    ready: () => !peer.closed && ws.getBufferedAmount() < SOCKET_BUFFER_BYTES,
    close: (code, reason) => {
      if (peer.closed) return;
      try {
        ws.end(code, reason);
      } catch {
        // Closed meanwhile.
      }
    },
    getState: () => state,
    setState: (next) => {
      state = next;
    },
  };
  return peer;
}
