/**
 * Self-hosted Kaiten: the core's partitions behind uWebSockets.js on one port, the WebSocket
 * protocol v1 at /v1/topics/{t}/partitions/{p}/ws exactly as the Cloudflare host serves it.
 * The HTTP API arrives with the shared core HTTP module; until then only GET /v1 answers.
 */

import uws from "uWebSockets.js";
import { createRequire } from "node:module";
import {
  ErrorCode,
  errorFrame,
  isValidTopicName,
  KaitenError,
  Limits,
  PING,
  PONG,
  SUBPROTOCOL,
} from "@kaiten/protocol";
import { authenticate, type Credentials, socketGrant } from "../core/auth/access.ts";
import type { AuthVars } from "../core/auth/settings.ts";
import { authSettings } from "../core/auth/settings.ts";
import {
  expired,
  expiredError,
  grantGate,
  mayAutoCreate,
  type SocketRights,
} from "../core/auth/socket-gate.ts";
import type { GroupLagOf } from "../core/groups/service.ts";
import { asKaitenError, type SocketGate } from "../core/partition.ts";
import { partitionNumber, topicName } from "../core/paths.ts";
import type { BrokerPort } from "../core/port.ts";
import { autoCreateTopics, type SettingVars, topicDefaults } from "../core/settings.ts";
import { METRICS_CONFIG, METRICS_TOPIC } from "../core/system-topics.ts";
import { checkPartition, type Topic } from "../core/topic-store.ts";
import type { PeerSocket, SubscriptionState } from "../core/types.ts";
import { Assets, findDashboard } from "./assets.ts";
import { HttpAdapter } from "./http.ts";
import type { PartitionOwner } from "./partitions.ts";
import { NodePort } from "./port.ts";
import type { Synchronous } from "./sqlite.ts";

const require = createRequire(import.meta.url);

/** True when uWebSockets.js runs on its native addon for Node 20 (ABI 115). */
export function uwsNativeLoaded(): boolean {
  return Object.keys(require.cache).some((k) => /uws_[a-z0-9]+_[a-z0-9]+_115\.node$/.test(k));
}

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
const CLOSE_GOING_AWAY = 1001;

export interface ServerOptions {
  /** Default: 8080. 0 picks a free port. */
  port?: number;
  /** Default: "127.0.0.1". */
  host?: string;
  /** Where topics and logs are kept. */
  dataDir: string;
  /**
   * Settings, as the environment variables of the same names as wrangler.toml's [vars] and
   * secrets. As on Cloudflare, auth is on (KAITEN_AUTH = "jwt") unless KAITEN_AUTH is "off".
   */
  vars?: SettingVars & AuthVars;
  /** Default: "FULL" (an ack means durable). Only benchmarks of the setting change it. */
  synchronous?: Synchronous;
  /**
   * The built dashboard served at `/`; null serves none. Default: the repository's
   * dashboard/dist, found upwards from this file (findDashboard).
   */
  assetsDir?: string | null;
}

export interface RunningServer {
  port: number;
  url: string;
  /** Finishes commits in progress, closes every socket with going-away (1001), closes files. */
  stop(): Promise<void>;
}

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
  authorization: string;
  origin: string;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (!uwsNativeLoaded()) {
    throw new Error(
      "uWebSockets.js did not load its native addon (uws_*_115.node): refusing its slow JavaScript fallback. Kaiten's Node host needs Node 20.",
    );
  }
  const vars = options.vars ?? {};
  const auth = authSettings(vars);
  const settings = {
    autoCreate: autoCreateTopics(vars),
    defaults: topicDefaults(vars),
    quotas: auth.limits,
  };
  const broker = new NodePort({
    dataDir: options.dataDir,
    settings: {
      auth,
      autoCreate: settings.autoCreate,
      topicDefaults: settings.defaults,
      liveWaitMs: 20_000,
    },
    synchronous: options.synchronous ?? "FULL",
    groupLag: interimGroupLag,
  });
  const partitions = broker.partitions;
  const sockets = new Set<uws.WebSocket<SocketData>>();

  /** Where a socket goes, as the Worker decides it (§9, §15.3): a partition, or a refusal. */
  const route = async (u: Upgrade): Promise<Route> => {
    try {
      const offered = u.protocol;
      if (offered && !offered.split(",").some((p) => p.trim() === SUBPROTOCOL)) {
        throw new KaitenError("UNSUPPORTED_VERSION", `this broker speaks ${SUBPROTOCOL}`);
      }
      const m = /^\/v1\/topics\/([^/]+)\/partitions\/([^/]+)\/ws$/.exec(u.url);
      if (!m) throw new KaitenError("NOT_FOUND", `no WebSocket route at ${u.url}`);
      const name = topicName(m[1] as string);
      const index = partitionNumber(m[2] as string);
      const who = await authenticate(credentials(u), auth);
      if (who.kind === "site-key") {
        throw new KaitenError("UNAUTHENTICATED", "the Node host does not serve site keys yet");
      }
      const grant = socketGrant(who, name);
      const create = mayAutoCreate(who, name, settings.autoCreate);
      const topic = await interimLookup(broker, name, create);
      checkPartition(topic, index);
      return { owner: partitions.get(name, index, topic), rights: { grant, produced: false } };
    } catch (error) {
      return { refusal: asKaitenError(error) };
    }
  };

  const app = uws.App();
  app.ws<SocketData>("/*", {
    compression: uws.DISABLED,
    maxPayloadLength: Limits.maxFrameBytes,
    idleTimeout: 0,
    maxBackpressure: MAX_BACKPRESSURE,
    upgrade: (res, req, context) => {
      const u: Upgrade = {
        url: req.getUrl(),
        query: req.getQuery() ?? "",
        key: req.getHeader("sec-websocket-key"),
        protocol: req.getHeader("sec-websocket-protocol"),
        extensions: req.getHeader("sec-websocket-extensions"),
        authorization: req.getHeader("authorization"),
        origin: req.getHeader("origin"),
      };
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void route(u).then((target) => {
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
          console.error(`[kaiten:server] upgrade of ${u.url} failed`, error);
        }
      });
    },
    open: (ws) => {
      sockets.add(ws);
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
      const peer = nodePeer(ws, owner, rights);
      data.peer = peer;
      data.gate = grantGate({
        rights: () => rights,
        save: () => {},
        topic: () => owner.topic,
        settings: () => auth,
        now: Date.now,
        expire: () => expire(peer, ws),
        expiresAt: (at) => expireAt(peer, ws, at),
      });
      if (rights.grant.expiresAt > 0) expireAt(peer, ws, rights.grant.expiresAt);
      owner.sockets.add(peer);
    },
    message: (ws, message, isBinary) => {
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
    },
    drain: (ws) => {
      const { route, peer } = ws.getUserData();
      if (peer && "owner" in route) route.owner.partition.drained(peer);
    },
    close: (ws) => {
      sockets.delete(ws);
      const { route, peer } = ws.getUserData();
      if (!peer || !("owner" in route)) return;
      peer.closed = true;
      if (peer.expiry) clearTimeout(peer.expiry);
      try {
        route.owner.sockets.delete(peer);
      } finally {
        route.owner.partition.closed(peer);
      }
    },
  });
  const assets =
    options.assetsDir === null ? null : new Assets(options.assetsDir ?? findDashboard() ?? "");
  const http = new HttpAdapter(
    (request) => {
      const path = new URL(request.url).pathname;
      // As wrangler.toml's run_worker_first: /v1 and below are the API, the rest the dashboard.
      if (path === "/v1" || path.startsWith("/v1/") || !assets) return interimApi(request);
      return Promise.resolve(assets.serve(request));
    },
    { refusalHeaders: CORS },
  );
  app.any("/*", http.serve);

  const host = options.host ?? "127.0.0.1";
  const listenSocket = await new Promise<uws.us_listen_socket>((resolve, reject) => {
    app.listen(host, options.port ?? 8080, (socket) =>
      socket ? resolve(socket) : reject(new Error(`cannot listen on ${host}:${options.port}`)),
    );
  });
  const port = uws.us_socket_local_port(listenSocket);

  let stopping: Promise<void> | null = null;
  const stop = async (): Promise<void> => {
    uws.us_listen_socket_close(listenSocket);
    // SSE answers end with their last event complete, long-polls answer, then close.
    const answered = http.finishAll();
    // Commit what is pending; its acks are sent by promise jobs, which run before the timer.
    partitions.flushAll();
    await new Promise((resolve) => setTimeout(resolve, 10));
    for (const ws of [...sockets]) {
      try {
        ws.end(CLOSE_GOING_AWAY, "server stopping");
      } catch {
        // Closed meanwhile.
      }
    }
    await answered;
    broker.close();
  };
  return {
    port,
    url: `http://${host}:${port}`,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}

const CORS: Record<string, string> = { "access-control-allow-origin": "*" };

/** Until the core HTTP API is wired in: a topic for a socket, as core lookup() finds it. */
async function interimLookup(port: NodePort, name: string, create: boolean): Promise<Topic> {
  if (!isValidTopicName(name))
    throw new KaitenError("INVALID_TOPIC", "topic names are 1 to 249 of A-Z a-z 0-9 . _ -");
  const { autoCreate, topicDefaults, auth } = port.settings;
  const registry = port.registry();
  const outcome =
    name === METRICS_TOPIC
      ? await registry.ensure(name, METRICS_CONFIG, null)
      : create && autoCreate
        ? await registry.ensure(name, topicDefaults, auth.limits)
        : null;
  if (outcome?.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", outcome.message);
  const topic = outcome ? outcome.topic : await registry.get(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  return topic;
}

/** Until core/groups/lag.ts arrives with the HTTP API: a group's lag over the port. */
function interimGroupLag(port: BrokerPort): GroupLagOf {
  return async (d) => {
    const offsets = await Promise.all(
      d.partitions.map(async (p) => {
        const topic = await port.registry().get(p.topic);
        const ref = topic && { topic: p.topic, partition: p.partition, config: topic };
        const info = ref ? await port.partition(p.topic, p.partition).info(ref) : null;
        const highWatermark = info?.ok ? info.value.highWatermark : null;
        const from = p.committed ?? (info?.ok ? info.value.earliestOffset : 0);
        const lag = highWatermark === null ? null : Math.max(0, highWatermark - from);
        return { ...p, highWatermark, lag };
      }),
    );
    return { offsets, totalLag: offsets.reduce((n, o) => n + (o.lag ?? 0), 0) };
  };
}

/** Until the core HTTP API is wired in: GET /v1 describes the broker, the rest is NOT_FOUND. */
async function interimApi(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json", ...CORS },
    });
  if (url.pathname === "/v1" && request.method === "GET")
    return json({ name: "kaiten", protocol: SUBPROTOCOL, host: "node" });
  const e = new KaitenError("NOT_FOUND", `no route for ${request.method} ${url.pathname}`);
  return json({ error: { code: e.code, message: e.message } }, 404);
}

function credentials(u: Upgrade): Credentials {
  const q = new URLSearchParams(u.query);
  return {
    authorization: u.authorization || null,
    token: q.get("token"),
    key: q.get("key"),
    origin: u.origin || null,
  };
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
    if (Date.now() >= at) expire(peer, ws);
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
