/**
 * The protocol logic shared by both baseline relays: enough of protocol v1 for the bench
 * client to drive them exactly as it drives Kaiten (docs/PROTOCOL.md §5), and no storage.
 * A PRODUCE is acknowledged at once with increasing offsets and its batch goes out to every
 * subscriber of the same path as one RECORDS frame; SUBSCRIBE starts at the current offset;
 * CREDIT is ignored. The relays are the ceiling of what this machine and a Node WebSocket
 * client can move, not brokers.
 *
 * With a RelayLog (the `uws-fsync` and `uws-sqlite` targets), a relay is the least a broker
 * whose ack means durable must do: each produced batch goes to its channel's log, and once per
 * turn of the event loop (a group commit, as Kaiten's Node host makes one) the logs written
 * are made durable, then that turn's acks go out and its batches to subscribers. No index, no
 * idempotence, no reads: the cost of the disk's sync (and with `uws-sqlite`, of SQLite's
 * commit) on this machine, and nothing else.
 */
import {
  decodeFrame,
  encodeFrame,
  encodeRecordsFrame,
  FrameType,
  KaitenError,
  PING,
  PONG,
} from "@kaiten/protocol";

/** What a relay needs from its WebSocket library. */
export interface RelayPeer {
  send(frame: Uint8Array): void;
  sendText(text: string): void;
}

/** One topic partition of a relay: a counter and the peers subscribed to it. */
interface Channel {
  nextOffset: number;
  subscribers: Set<RelayPeer>;
}

/** Append-only files, one per channel, made durable together by `sync`. */
export interface RelayLog {
  /**
   * A socket connected to the channel at `path`: its file is made now, outside the timed part,
   * as a broker opens a partition when a socket connects to it.
   */
  open(path: string): void;
  /** Appends a batch to the file of the channel at `path`; not yet durable. */
  append(path: string, batch: Uint8Array): void;
  /** Returns once everything appended so far is on disk. */
  sync(): void;
}

/** The epoch every relay channel claims; the relays never restart a log. */
const EPOCH = 1;

export class RelayCore {
  private readonly channels = new Map<string, Channel>();
  /** What this turn's produced batches send once they are synced (a RelayLog only). */
  private held: Array<() => void> = [];

  constructor(private readonly log: RelayLog | null = null) {}

  private channel(path: string): Channel {
    let c = this.channels.get(path);
    if (!c) {
      c = { nextOffset: 0, subscribers: new Set() };
      this.channels.set(path, c);
    }
    return c;
  }

  /** A message from `peer`, connected on `path` (one path is one topic partition). */
  message(path: string, peer: RelayPeer, data: Uint8Array | string): void {
    if (typeof data === "string") {
      if (data === PING) peer.sendText(PONG);
      return;
    }
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(data);
    } catch (error) {
      if (!(error instanceof KaitenError)) throw error;
      return;
    }
    const c = this.channel(path);
    switch (frame.type) {
      case FrameType.Produce: {
        const count = new DataView(frame.batch.buffer, frame.batch.byteOffset).getUint32(16);
        const baseOffset = c.nextOffset;
        c.nextOffset += count;
        const ack = encodeFrame({
          type: FrameType.ProduceAck,
          requestId: frame.requestId,
          baseOffset,
          count,
          epoch: EPOCH,
          duplicate: false,
        });
        if (!this.log) {
          peer.send(ack);
          this.broadcast(c, baseOffset, count, frame.batch);
          return;
        }
        this.log.append(path, frame.batch);
        const batch = frame.batch.slice();
        this.held.push(() => {
          peer.send(ack);
          this.broadcast(c, baseOffset, count, batch);
        });
        if (this.held.length === 1) setImmediate(() => this.commit());
        return;
      }
      case FrameType.Subscribe:
        c.subscribers.add(peer);
        peer.send(
          encodeFrame({
            type: FrameType.Subscribed,
            requestId: frame.requestId,
            epoch: EPOCH,
            startOffset: c.nextOffset,
            earliestOffset: c.nextOffset,
            highWatermark: c.nextOffset,
          }),
        );
        return;
      case FrameType.Unsubscribe:
        c.subscribers.delete(peer);
        peer.send(encodeFrame({ type: FrameType.Unsubscribed, requestId: frame.requestId }));
        return;
      default:
        // CREDIT: the relays do no flow control.
        return;
    }
  }

  /** The group commit of a RelayLog: sync, then send what waited for it, in order. */
  private commit(): void {
    const held = this.held;
    this.held = [];
    (this.log as RelayLog).sync();
    for (const send of held) send();
  }

  /** One RECORDS frame for the batch, with its base offset set, sent to every subscriber. */
  private broadcast(c: Channel, baseOffset: number, count: number, batch: Uint8Array): void {
    if (c.subscribers.size === 0) return;
    // Its own next offset: with a RelayLog, later batches may have been counted meanwhile.
    const next = baseOffset + count;
    const frame = encodeRecordsFrame(next, next, batch);
    const view = new DataView(frame.buffer, frame.byteOffset);
    view.setUint32(17, Math.floor(baseOffset / 0x1_0000_0000));
    view.setUint32(21, baseOffset % 0x1_0000_0000);
    for (const peer of c.subscribers) peer.send(frame);
  }

  closed(path: string, peer: RelayPeer): void {
    this.channels.get(path)?.subscribers.delete(peer);
  }
}
