/**
 * The Durable Object that owns one topic partition: its log in SQLite and its subscribers
 * on hibernatable WebSockets. Every entry point contains its errors (STYLE.md habit 6):
 * one bad frame or dead socket never takes the partition down for everyone else.
 */

import { DurableObject } from "cloudflare:workers";
import {
  type AuthFrame,
  decodeFrame,
  ErrorCode,
  encodeFrame,
  errorFrame,
  FrameType,
  KaitenError,
  PING,
  PONG,
  type ProduceFrame,
  SUBPROTOCOL,
} from "@kaiten/protocol";
import { authenticate, type SocketGrant, socketGrant } from "../core/auth/access.ts";
import { Fanout } from "../core/fanout.ts";
import { type AppendResult, PartitionLog } from "../core/partition-log.ts";
import { PartitionStats } from "../core/stats.ts";
import type {
  Host,
  PeerSocket,
  StoredChunk,
  SubscriptionState,
  TopicConfig,
} from "../core/types.ts";
import { auth, defaultTopicConfig, type Env, siteKeyStub } from "./env.ts";
import { MetricsPublisher, type PartitionGauges } from "./metrics.ts";
import { SqliteLogStorage } from "../core/sqlite-log-storage.ts";
import { durableObjectSql } from "./do-sql-driver.ts";

const LOG_PREFIX = "[kaiten:partition]";

/** What survives hibernation with each socket (serializeAttachment; at most 16 KiB). */
interface Attachment {
  sub: SubscriptionState | null;
  /** What the socket may do, and until when (PROTOCOL.md §15.4). */
  grant: SocketGrant;
  /** Whether the socket has produced: a refreshed token must still allow it. */
  produced: boolean;
}

/** A socket's peer and its rights, kept per WebSocket while the object is awake. */
interface Socket {
  peer: PeerSocket;
  att: Attachment;
}

/** No rights at all: a socket that reached the object without a grant (never from the Worker). */
const NO_GRANT: SocketGrant = { produce: false, subscribe: false, expiresAt: 0 };

export type RpcResult<T> = { ok: true; value: T } | { ok: false; error: WireError };
export interface WireError {
  code: KaitenError["code"];
  message: string;
  detail: number;
}

export interface ReadResult {
  epoch: number;
  earliestOffset: number;
  highWatermark: number;
  /** Where the read starts (the offset asked for, or found by timestamp). */
  startOffset: number;
  chunks: Uint8Array[];
}

export interface PartitionInfo {
  epoch: number;
  earliestOffset: number;
  highWatermark: number;
  subscribers: number;
  /** Group commits and SQLite rows written since the object started (for cost figures). */
  commits: number;
  rowsWritten: number;
}

export class PartitionObject extends DurableObject<Env> {
  private readonly log: PartitionLog;
  private readonly storage: SqliteLogStorage;
  private readonly fanout: Fanout;
  private readonly sockets = new WeakMap<WebSocket, Socket>();
  private alarmAt: number | null = null;
  private readonly metrics: MetricsPublisher;
  /** Which partition this object is; told by the Worker with every call, kept for the alarm. */
  private identity: { topic: string; partition: number } | null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.identity = loadIdentity(ctx.storage.sql);
    // Keep-alive pings are answered by the runtime itself, without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    const host: Host = {
      now: () => Date.now(),
      randomEpoch: () => crypto.getRandomValues(new Uint32Array(1))[0] || 1,
      defer: (fn) => setTimeout(() => this.contained("deferred work", fn), 0),
      log: (message, error) => console.error(`${LOG_PREFIX} ${message}`, error ?? ""),
    };
    const stats = new PartitionStats(host.now, () => this.metrics.schedule());
    this.storage = new SqliteLogStorage(durableObjectSql(ctx.storage));
    this.log = new PartitionLog(
      this.storage,
      host,
      defaultTopicConfig(env),
      (chunks, meta) => {
        this.fanout.broadcast(chunks, meta);
        this.ensureAlarm();
      },
      stats,
    );
    const sockets = () => ctx.getWebSockets().map((ws) => this.socket(ws).peer);
    this.fanout = new Fanout(this.log, host, sockets, stats);
    this.metrics = new MetricsPublisher(
      env,
      stats,
      () => this.identity,
      () => this.gauges(),
    );
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  private contained(what: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      console.error(`${LOG_PREFIX} ${what} failed`, error);
    }
  }

  /**
   * A PeerSocket over a hibernatable WebSocket; its subscription and grant live in the
   * attachment. Nothing is sent once the socket's token has expired: it is closed instead.
   */
  private socket(ws: WebSocket): Socket {
    const known = this.sockets.get(ws);
    if (known) return known;
    const stored = ws.deserializeAttachment() as Partial<Attachment> | null;
    const att: Attachment = {
      sub: stored?.sub ?? null,
      grant: stored?.grant ?? NO_GRANT,
      produced: stored?.produced ?? false,
    };
    const peer: PeerSocket = {
      send: (frame) => {
        if (expired(att.grant, Date.now())) this.expire(ws);
        else ws.send(frame);
      },
      close: (code, reason) => closeQuietly(ws, code, reason),
      getState: () => att.sub,
      setState: (next) => {
        att.sub = next;
        ws.serializeAttachment(att);
      },
    };
    const entry = { peer, att };
    this.sockets.set(ws, entry);
    return entry;
  }

  /** Ends a socket whose rights ran out: ERROR TOKEN_EXPIRED, then close 4027 (§15.4). */
  private expire(ws: WebSocket): void {
    const e = new KaitenError(
      "TOKEN_EXPIRED",
      "the socket's token expired; connect with a new one",
    );
    this.forget(ws);
    sendQuietly(ws, errorFrame(0, e));
    closeQuietly(ws, 4000 + ErrorCode.TOKEN_EXPIRED, e.code);
  }

  override async fetch(request: Request): Promise<Response> {
    try {
      this.configureFrom(request);
      const pair = new WebSocketPair();
      const [client, server] = [pair[0], pair[1]];
      this.ctx.acceptWebSocket(server);
      const grant = JSON.parse(request.headers.get("x-kaiten-grant") ?? "null") ?? NO_GRANT;
      server.serializeAttachment({ sub: null, grant, produced: false } satisfies Attachment);
      if (grant.expiresAt > 0) this.scheduleAlarm(grant.expiresAt);
      const offered = request.headers.get("Sec-WebSocket-Protocol");
      const headers = offered ? { "Sec-WebSocket-Protocol": SUBPROTOCOL } : undefined;
      return new Response(null, { status: 101, webSocket: client, headers });
    } catch (error) {
      console.error(`${LOG_PREFIX} fetch failed`, error);
      return new Response("internal error", { status: 500 });
    }
  }

  private configureFrom(request: Request): void {
    const header = request.headers.get("x-kaiten-ref");
    if (header) this.identify(JSON.parse(header) as PartitionRef);
  }

  /** Takes the topic config and identity the Worker sends, storing them when they changed. */
  private identify(ref: PartitionRef): void {
    this.log.configure(ref.config);
    const id = this.identity;
    if (id?.topic === ref.topic && id.partition === ref.partition) return;
    this.identity = { topic: ref.topic, partition: ref.partition };
    saveIdentity(this.ctx.storage.sql, this.identity);
  }

  private gauges(): PartitionGauges {
    const m = this.log.state;
    return {
      highWatermark: m.highWatermark,
      earliestOffset: m.logStart,
      storedBytes: m.totalBytes,
      subscribers: this.fanout.countSubscribers(),
    };
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    let requestId = 0;
    try {
      if (typeof message === "string") {
        throw new KaitenError(
          "MALFORMED_FRAME",
          `text frames other than "${PING}" are not part of the protocol`,
        );
      }
      const frame = decodeFrame(new Uint8Array(message));
      requestId = "requestId" in frame ? frame.requestId : 0;
      const socket = this.socket(ws);
      if (expired(socket.att.grant, Date.now())) return this.expire(ws);
      const peer = socket.peer;
      switch (frame.type) {
        case FrameType.Produce:
          return await this.produce(ws, socket, frame);
        case FrameType.Subscribe:
          if (!socket.att.grant.subscribe) throw forbidden("subscribe", this.identity?.topic);
          return this.fanout.subscribe(peer, frame);
        case FrameType.Auth:
          return await this.refresh(ws, socket, frame);
        case FrameType.Credit:
          return this.fanout.grantCredit(peer, frame.credit);
        case FrameType.Unsubscribe:
          return this.fanout.unsubscribe(peer, frame.requestId);
        default:
          throw new KaitenError("UNKNOWN_FRAME_TYPE", "a server frame type was sent to the server");
      }
    } catch (error) {
      this.sendError(ws, requestId, error);
    }
  }

  private async produce(ws: WebSocket, socket: Socket, f: ProduceFrame): Promise<void> {
    const { grant } = socket.att;
    if (!grant.produce) throw forbidden("produce", this.identity?.topic);
    if (grant.siteKey) await this.admitSiteKey(grant.siteKey, f.batch);
    if (!socket.att.produced) {
      socket.att.produced = true;
      ws.serializeAttachment(socket.att);
    }
    const r = await this.log.append({
      batch: f.batch,
      producerId: f.producerId,
      producerEpoch: f.producerEpoch,
      sequence: f.sequence,
      sequencing: "strict",
    });
    // The append resolved after its group commit was written; this send is held by the
    // output gate until that write is durable, so the producer never sees an ack for data
    // that could still be lost.
    sendQuietly(
      ws,
      encodeFrame({ type: FrameType.ProduceAck, requestId: f.requestId, ...ackOf(r) }),
    );
  }

  /** Every PRODUCE of a site-key socket is admitted by the key's object: rate, revocation (§15.5). */
  private async admitSiteKey(site: NonNullable<SocketGrant["siteKey"]>, batch: Uint8Array) {
    const id = /^pk_([a-z0-9]{12})_/.exec(site.key)?.[1];
    if (!id || !this.identity) throw new KaitenError("UNAUTHENTICATED", "not a site key");
    // The record count of a batch is at bytes 16..19 (§4.1); a short batch fails validation later.
    const records =
      batch.length >= 20 ? new DataView(batch.buffer, batch.byteOffset).getUint32(16) : 1;
    const admission = { key: site.key, origin: site.origin, topic: this.identity.topic, records };
    const r = await siteKeyStub(this.env, id).admit(admission);
    if (!r.ok) throw new KaitenError(r.error.code, r.error.message, r.error.detail);
  }

  /**
   * AUTH: a new token for this socket (§15.4). Its rights must still cover what the socket
   * does (its subscription, its producing); then they replace the old ones, with the new expiry.
   */
  private async refresh(ws: WebSocket, socket: Socket, f: AuthFrame): Promise<void> {
    const topic = this.identity?.topic ?? "";
    if (socket.att.grant.siteKey)
      throw new KaitenError("INVALID_REQUEST", "a site-key socket has no token to refresh");
    const who = await authenticate(
      { authorization: null, token: f.token, key: null, origin: null },
      auth(this.env),
    );
    const next = socketGrant(who, topic);
    if (socket.att.sub && !next.subscribe) throw forbidden("subscribe", topic, "the new token");
    if (socket.att.produced && !next.produce) throw forbidden("produce", topic, "the new token");
    socket.att.grant = next;
    ws.serializeAttachment(socket.att);
    if (next.expiresAt > 0) this.scheduleAlarm(next.expiresAt);
    sendQuietly(
      ws,
      encodeFrame({ type: FrameType.Authed, requestId: f.requestId, expiresAt: next.expiresAt }),
    );
  }

  private sendError(ws: WebSocket, requestId: number, error: unknown): void {
    if (!(error instanceof KaitenError)) console.error(`${LOG_PREFIX} message failed`, error);
    sendQuietly(ws, errorFrame(requestId, asKaitenError(error)));
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.forget(ws);
    // 1005 and 1006 are reserved and must not be sent back: close(1005) throws.
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    console.error(`${LOG_PREFIX} socket error`, error);
    this.forget(ws);
  }

  private forget(ws: WebSocket): void {
    const socket = this.sockets.get(ws);
    if (socket) this.fanout.forget(socket.peer);
  }

  /** One alarm for two jobs: time retention, and closing sockets whose token expired. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    let nextExpiry: number | null = null;
    try {
      nextExpiry = this.closeExpired(Date.now());
      this.log.enforceRetention(Date.now());
    } catch (error) {
      console.error(`${LOG_PREFIX} alarm failed`, error);
    }
    this.ensureAlarm();
    if (nextExpiry !== null) this.scheduleAlarm(nextExpiry);
  }

  /** Closes every socket whose rights have ended; answers when the next one's end. */
  private closeExpired(now: number): number | null {
    let next: number | null = null;
    for (const ws of this.ctx.getWebSockets()) {
      const { expiresAt } = this.socket(ws).att.grant;
      if (expiresAt === 0) continue;
      if (expiresAt <= now) this.expire(ws);
      else next = next === null ? expiresAt : Math.min(next, expiresAt);
    }
    return next;
  }

  /** Keeps one alarm set for the time the oldest chunk expires, while time retention applies. */
  private ensureAlarm(): void {
    if (this.alarmAt !== null) return;
    const due = this.log.retentionDue();
    if (due === null) return;
    this.scheduleAlarm(Math.max(due, Date.now() + 1_000));
  }

  /** Sets the alarm to `at` unless it is already set to go off sooner. */
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.ctx.storage.setAlarm(at);
  }

  // RPC methods, called by the Worker. Errors come back as data: an Error thrown across RPC
  // loses its code.

  async append(input: AppendInput): Promise<RpcResult<AppendResult>> {
    return this.rpc(input, () => this.log.append({ ...input, sequencing: "monotonic" }));
  }

  async read(input: ReadInput): Promise<RpcResult<ReadResult>> {
    return this.rpc(input, () => {
      const meta = this.log.state;
      // No offset and no timestamp: from the earliest offset still retained.
      const start =
        input.timestamp !== undefined
          ? this.log.offsetForTimestamp(input.timestamp)
          : (input.offset ?? meta.logStart);
      const chunks = this.log.read(start, input.maxBytes).map((c: StoredChunk) => c.data);
      return {
        epoch: meta.epoch,
        earliestOffset: meta.logStart,
        highWatermark: meta.highWatermark,
        startOffset: start,
        chunks,
      };
    });
  }

  async info(ref: PartitionRef): Promise<RpcResult<PartitionInfo>> {
    return this.rpc(ref, () => {
      const m = this.log.state;
      const subscribers = this.fanout.countSubscribers();
      return {
        epoch: m.epoch,
        earliestOffset: m.logStart,
        highWatermark: m.highWatermark,
        subscribers,
        ...this.storage.usage,
      };
    });
  }

  /** Deletes the log and closes every socket: the topic is gone. */
  async destroy(): Promise<void> {
    this.fanout.closeAll(new KaitenError("TOPIC_DELETED", "the topic was deleted"));
    this.log.destroy();
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
  }

  private async rpc<T>(ref: PartitionRef, fn: () => T | Promise<T>): Promise<RpcResult<T>> {
    try {
      this.identify(ref);
      return { ok: true, value: await fn() };
    } catch (error) {
      if (!(error instanceof KaitenError)) console.error(`${LOG_PREFIX} rpc failed`, error);
      return { ok: false, error: rpcError(error) };
    }
  }
}

/** An error as data for an RPC answer: an Error thrown across RPC loses its code. */
export function rpcError(error: unknown): WireError {
  const e = asKaitenError(error);
  return { code: e.code, message: e.message, detail: e.detail };
}

/** Who the partition is and its topic's config, sent with every call (§ARCHITECTURE). */
export interface PartitionRef {
  topic: string;
  partition: number;
  config: TopicConfig;
}

export interface AppendInput extends PartitionRef {
  batch: Uint8Array;
  producerId: string;
  producerEpoch: number;
  sequence: number;
}

export interface ReadInput extends PartitionRef {
  offset?: number;
  timestamp?: number;
  maxBytes: number;
}

function loadIdentity(sql: SqlStorage): { topic: string; partition: number } | null {
  sql.exec(
    "CREATE TABLE IF NOT EXISTS identity (id INTEGER PRIMARY KEY CHECK (id = 0), topic TEXT NOT NULL, partition INTEGER NOT NULL)",
  );
  const row = sql.exec("SELECT topic, partition FROM identity").toArray()[0];
  return row ? { topic: String(row.topic), partition: Number(row.partition) } : null;
}

function saveIdentity(sql: SqlStorage, id: { topic: string; partition: number }): void {
  sql.exec(
    "INSERT INTO identity VALUES (0, ?, ?) ON CONFLICT (id) DO UPDATE SET topic = excluded.topic, partition = excluded.partition",
    id.topic,
    id.partition,
  );
}

function expired(grant: SocketGrant, now: number): boolean {
  return grant.expiresAt > 0 && grant.expiresAt <= now;
}

function forbidden(right: string, topic = "", whose = "the socket's token"): KaitenError {
  return new KaitenError("FORBIDDEN", `${whose} has no ${right} right on "${topic}"`);
}

function ackOf(r: AppendResult) {
  return { baseOffset: r.baseOffset, count: r.count, epoch: r.epoch, duplicate: r.duplicate };
}

export function asKaitenError(error: unknown): KaitenError {
  return error instanceof KaitenError
    ? error
    : new KaitenError("INTERNAL", "internal error; retry");
}

function sendQuietly(ws: WebSocket, frame: Uint8Array): void {
  try {
    ws.send(frame);
  } catch {
    // The socket closed meanwhile; its close handler cleans up.
  }
}

function closeQuietly(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // Already closed.
  }
}
