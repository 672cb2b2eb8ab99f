/**
 * One topic partition as every host runs it: its log, its subscribers, its retention timer,
 * and the per-socket protocol session (decode, route, ack, ERROR; docs/PROTOCOL.md §5, §8).
 * A host owns one Partition per (topic, partition) with single-writer semantics (a Durable
 * Object on Cloudflare, an in-process owner on Node) and calls it from its entry points.
 *
 * Every method a host entry point calls contains its errors (STYLE.md habit 6): a bad frame
 * gets an ERROR frame on its own socket only; unexpected failures are logged through the
 * host, which names the topic and partition, and answered with INTERNAL.
 */
import {
  type AuthFrame,
  decodeFrame,
  encodeFrame,
  errorFrame,
  FrameType,
  KaitenError,
  PING,
  type ProduceFrame,
} from "@kaiten/protocol";
import { Fanout } from "./fanout.ts";
import { type AppendResult, PartitionLog } from "./partition-log.ts";
import { type Alarm, RetentionSchedule } from "./retention.ts";
import { PartitionStats } from "./stats.ts";
import type { Host, LogMeta, LogStorage, PeerSocket, TopicConfig } from "./types.ts";

export interface PartitionDeps {
  storage: LogStorage;
  host: Host;
  /** The config used until the registry's copy is stored (`configure`). */
  defaults: TopicConfig;
  /** Every connected socket of this partition, subscribed or not. */
  sockets: () => Iterable<PeerSocket>;
  /** The host's one timer for time retention. */
  alarm: Alarm;
  /** Default: counters nobody publishes. */
  stats?: PartitionStats;
  /** After each commit, once subscribers have been sent it (HTTP readers waiting, §17). */
  onCommit?: (meta: LogMeta) => void;
}

/** A read over HTTP: from an offset, from a time, or (neither) from the earliest retained offset. */
export interface ReadRequest {
  offset?: number;
  timestamp?: number;
  maxBytes: number;
}

export interface ReadResult {
  epoch: number;
  earliestOffset: number;
  highWatermark: number;
  /** Where the read starts (the offset asked for, or found by timestamp). */
  startOffset: number;
  chunks: Uint8Array[];
}

export interface AppendInput {
  batch: Uint8Array;
  producerId: string;
  producerEpoch: number;
  sequence: number;
}

/**
 * What a host checks for the frames of a socket, beyond the protocol itself: its rights
 * (docs/PROTOCOL.md §15). Each check throws a KaitenError to refuse the frame.
 */
export interface SocketGate {
  /** Before every frame: false when the socket may do nothing more (the gate has closed it). */
  admit(peer: PeerSocket): boolean;
  produce(peer: PeerSocket, frame: ProduceFrame): void | Promise<void>;
  subscribe(peer: PeerSocket): void;
  /** AUTH (§15.4): takes the new token and answers AUTHED, or throws. */
  auth(peer: PeerSocket, frame: AuthFrame): Promise<void>;
}

/** No rights checked: every socket may do everything (KAITEN_AUTH = "off"). */
export const OPEN_GATE: SocketGate = {
  admit: () => true,
  produce: () => {},
  subscribe: () => {},
  auth: async (peer, f) => {
    peer.send(encodeFrame({ type: FrameType.Authed, requestId: f.requestId, expiresAt: 0 }));
  },
};

export interface PartitionGauges {
  highWatermark: number;
  earliestOffset: number;
  storedBytes: number;
  subscribers: number;
}

export class Partition {
  readonly log: PartitionLog;
  readonly fanout: Fanout;
  readonly retention: RetentionSchedule;
  private readonly host: Host;

  constructor(deps: PartitionDeps) {
    const { host } = deps;
    const stats = deps.stats ?? new PartitionStats(() => host.now());
    this.host = host;
    this.log = new PartitionLog(
      deps.storage,
      host,
      deps.defaults,
      (chunks, meta) => {
        this.fanout.broadcast(chunks, meta);
        this.retention.ensure();
        deps.onCommit?.(meta);
      },
      stats,
    );
    this.fanout = new Fanout(this.log, host, deps.sockets, stats);
    this.retention = new RetentionSchedule(this.log, host, deps.alarm);
  }

  /**
   * One WebSocket message from `peer`. Never throws: a refused frame is answered with an
   * ERROR frame (with the request's id when it could be read) on that socket only.
   */
  async message(
    peer: PeerSocket,
    data: Uint8Array | string,
    gate: SocketGate = OPEN_GATE,
  ): Promise<void> {
    let requestId = 0;
    try {
      if (typeof data === "string") {
        throw new KaitenError(
          "MALFORMED_FRAME",
          `text frames other than "${PING}" are not part of the protocol`,
        );
      }
      const frame = decodeFrame(data);
      requestId = "requestId" in frame ? frame.requestId : 0;
      if (!gate.admit(peer)) return;
      switch (frame.type) {
        case FrameType.Produce: {
          // Awaited only when the gate is asynchronous (a site key's admission): a plain
          // produce is queued in the same turn, so frames keep their order.
          const admitted = gate.produce(peer, frame);
          if (admitted) await admitted;
          return await this.produce(peer, frame);
        }
        case FrameType.Subscribe:
          gate.subscribe(peer);
          return this.fanout.subscribe(peer, frame);
        case FrameType.Auth:
          return await gate.auth(peer, frame);
        case FrameType.Credit:
          return this.fanout.grantCredit(peer, frame.credit);
        case FrameType.Unsubscribe:
          return this.fanout.unsubscribe(peer, frame.requestId);
        default:
          throw new KaitenError("UNKNOWN_FRAME_TYPE", "a server frame type was sent to the server");
      }
    } catch (error) {
      if (!(error instanceof KaitenError)) this.host.log("message failed", error);
      sendQuietly(peer, errorFrame(requestId, asKaitenError(error)));
    }
  }

  private async produce(peer: PeerSocket, f: ProduceFrame): Promise<void> {
    const r = await this.log.append({
      batch: f.batch,
      producerId: f.producerId,
      producerEpoch: f.producerEpoch,
      sequence: f.sequence,
      sequencing: "strict",
    });
    // The append resolved after its group commit was durable (on Durable Objects: written,
    // and this send is held by the output gate until it is durable; on Node: fsynced).
    sendQuietly(
      peer,
      encodeFrame({ type: FrameType.ProduceAck, requestId: f.requestId, ...ackOf(r) }),
    );
  }

  /** The socket closed or failed: it no longer counts nor gets catch-up work. Never throws. */
  closed(peer: PeerSocket): void {
    try {
      this.fanout.forget(peer);
    } catch (error) {
      this.host.log("socket cleanup failed", error);
    }
  }

  /** The host's send buffer for `peer` emptied (uWebSockets.js `drain`). Never throws. */
  drained(peer: PeerSocket): void {
    try {
      this.fanout.drained(peer);
    } catch (error) {
      this.host.log("catch-up after drain failed", error);
    }
  }

  /** An HTTP produce (sequences across partitions only increase: `monotonic`). */
  append(input: AppendInput): Promise<AppendResult> {
    return this.log.append({ ...input, sequencing: "monotonic" });
  }

  read(input: ReadRequest): ReadResult {
    const meta = this.log.state;
    const start =
      input.timestamp !== undefined
        ? this.log.offsetForTimestamp(input.timestamp)
        : (input.offset ?? meta.logStart);
    const chunks = this.log.read(start, input.maxBytes).map((c) => c.data);
    return {
      epoch: meta.epoch,
      earliestOffset: meta.logStart,
      highWatermark: meta.highWatermark,
      startOffset: start,
      chunks,
    };
  }

  gauges(): PartitionGauges {
    const m = this.log.state;
    return {
      highWatermark: m.highWatermark,
      earliestOffset: m.logStart,
      storedBytes: m.totalBytes,
      subscribers: this.fanout.countSubscribers(),
    };
  }

  /** Deletes the log and closes every socket with TOPIC_DELETED; the next use is a new epoch. */
  destroy(): void {
    this.fanout.closeAll(new KaitenError("TOPIC_DELETED", "the topic was deleted"));
    this.log.destroy();
    this.retention.cleared();
  }
}

function ackOf(r: AppendResult) {
  return { baseOffset: r.baseOffset, count: r.count, epoch: r.epoch, duplicate: r.duplicate };
}

export function asKaitenError(error: unknown): KaitenError {
  return error instanceof KaitenError
    ? error
    : new KaitenError("INTERNAL", "internal error; retry");
}

function sendQuietly(peer: PeerSocket, frame: Uint8Array): void {
  try {
    peer.send(frame);
  } catch {
    // The socket closed meanwhile; its close handler cleans up.
  }
}
