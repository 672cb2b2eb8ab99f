/**
 * The Durable Object that owns one topic partition: the core's PartitionService (the
 * Partition's log, subscribers, protocol session and retention, HTTP waiters, Durable Stream,
 * metrics; it answers the RPC methods) over Durable Object SQLite, plus what only this host
 * has: hibernatable WebSockets, each socket's rights (§15) checked through the session's
 * SocketGate, and the one alarm shared by retention and token expiry. Every entry point
 * contains its errors (STYLE.md habit 6) and logs them naming the topic and partition: one
 * bad frame or dead socket never takes the partition down for everyone else.
 */

import { DurableObject } from "cloudflare:workers";
import { ErrorCode, errorFrame, PING, PONG, SUBPROTOCOL } from "@kaiten/protocol";
import {
  expired,
  expiredError,
  grantGate,
  NO_GRANT,
  type SocketRights,
} from "../core/auth/socket-gate.ts";
import type { ReadResult, SocketGate } from "../core/partition.ts";
import type { AppendResult } from "../core/partition-log.ts";
import { PartitionService } from "../core/partition-service.ts";
import type {
  AppendInput,
  PartitionInfo,
  PartitionPort,
  PartitionRef,
  ReadInput,
  RpcResult,
  WaitInput,
} from "../core/port.ts";
import type { StreamAnswer, StreamOp } from "../core/stream-store.ts";
import type { PeerSocket, SubscriptionState } from "../core/types.ts";
import { durableObjectSql } from "./do-sql-driver.ts";
import { auth, defaultTopicConfig, type Env, siteKeyStub } from "./env.ts";
import { cloudflareMetrics } from "./metrics.ts";
import { workerTimers } from "./port.ts";

/** What survives hibernation with each socket (serializeAttachment; at most 16 KiB). */
interface Attachment extends SocketRights {
  sub: SubscriptionState | null;
}

/** A socket's peer and its rights, kept per WebSocket while the object is awake. */
interface Socket {
  peer: PeerSocket;
  att: Attachment;
}

export class PartitionObject extends DurableObject<Env> implements PartitionPort {
  /** The partition itself (log, subscribers, HTTP waiters, stream row, metrics): the core's. */
  private readonly service: PartitionService;
  private readonly sockets = new WeakMap<WebSocket, Socket>();
  private readonly gates = new WeakMap<WebSocket, SocketGate>();
  /** When the one alarm goes off (retention and token expiry share it); null: none set. */
  private alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    // Keep-alive pings are answered by the runtime itself, without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING, PONG));
    this.service = new PartitionService({
      sql: durableObjectSql(ctx.storage),
      now: () => Date.now(),
      randomEpoch: () => crypto.getRandomValues(new Uint32Array(1))[0] || 1,
      defer: (fn) => setTimeout(fn, 0),
      timers: workerTimers,
      log: console.error,
      defaults: defaultTopicConfig(env),
      sockets: () => ctx.getWebSockets().map((ws) => this.socket(ws).peer),
      alarm: { set: (at) => this.scheduleAlarm(at) },
      metrics: cloudflareMetrics(env),
    });
    ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await ctx.storage.getAlarm();
      this.partition.retention.restore(this.alarmAt);
    });
  }

  private get partition() {
    return this.service.partition;
  }

  private get identity() {
    return this.service.identity;
  }

  /** Logs with the prefix and the partition's name, so a log line says whose it is. */
  private logError(message: string, error?: unknown): void {
    this.service.logError(message, error);
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
    const e = expiredError();
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
      this.logError("fetch failed", error);
      return new Response("internal error", { status: 500 });
    }
  }

  private configureFrom(request: Request): void {
    const header = request.headers.get("x-kaiten-ref");
    if (header) this.service.identify(JSON.parse(header) as PartitionRef);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    try {
      const data = typeof message === "string" ? message : new Uint8Array(message);
      await this.partition.message(this.socket(ws).peer, data, this.gate(ws));
    } catch (error) {
      // Partition.message answers every error itself; this is for a failure of the host part.
      this.logError("message failed", error);
    }
  }

  /** The socket's rights, checked by the core's session before each frame (§15). */
  private gate(ws: WebSocket): SocketGate {
    let gate = this.gates.get(ws);
    if (gate) return gate;
    gate = grantGate({
      rights: () => this.socket(ws).att,
      save: () => ws.serializeAttachment(this.socket(ws).att),
      topic: () => this.identity?.topic ?? "",
      settings: () => auth(this.env),
      now: Date.now,
      expire: () => this.expire(ws),
      expiresAt: (at) => this.scheduleAlarm(at),
      siteKey: (id) => siteKeyStub(this.env, id),
      refuseProduce: () => this.service.refuseIfClosed(),
    });
    this.gates.set(ws, gate);
    return gate;
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      this.forget(ws);
    } finally {
      // 1005 and 1006 are reserved and must not be sent back: close(1005) throws.
      closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    }
  }

  override async webSocketError(ws: WebSocket, error: unknown): Promise<void> {
    this.logError("socket error", error);
    this.forget(ws);
  }

  private forget(ws: WebSocket): void {
    const socket = this.sockets.get(ws);
    if (socket) this.partition.closed(socket.peer);
  }

  /** One alarm for two jobs: time retention, and closing sockets whose token expired. */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    let nextExpiry: number | null = null;
    try {
      nextExpiry = this.closeExpired(Date.now());
    } catch (error) {
      this.logError("closing expired sockets failed", error);
    }
    // Never throws: trims what expired and sets the alarm for the next chunk to expire.
    this.partition.retention.fired();
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

  /** Sets the alarm to `at` unless it is already set to go off sooner. */
  private scheduleAlarm(at: number): void {
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    this.ctx.storage.setAlarm(at);
  }

  // RPC methods, called by the Worker: the core's service answers, errors as data (an Error
  // thrown across RPC loses its code).

  async append(input: AppendInput): Promise<RpcResult<AppendResult>> {
    return this.service.append(input);
  }

  /** Waits until the log holds records at or past `after`, for at most `ms` (PROTOCOL.md §17). */
  async waitForCommit(input: WaitInput): Promise<RpcResult<{ outcome: string }>> {
    return this.service.waitForCommit(input);
  }

  /** One Durable Streams operation on this partition's stream (PROTOCOL.md §18). */
  async stream(ref: PartitionRef, op: StreamOp, adopt = false): Promise<RpcResult<StreamAnswer>> {
    return this.service.stream(ref, op, adopt);
  }

  async read(input: ReadInput): Promise<RpcResult<ReadResult>> {
    return this.service.read(input);
  }

  async info(ref: PartitionRef): Promise<RpcResult<PartitionInfo>> {
    return this.service.info(ref);
  }

  /** Deletes the log and closes every socket: the topic is gone. */
  async destroy(): Promise<void> {
    await this.service.destroy();
    await this.ctx.storage.deleteAlarm();
    this.alarmAt = null;
  }
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
