/**
 * The protocol logic shared by both baseline relays: enough of protocol v1 for the bench
 * client to drive them exactly as it drives Kaiten (docs/PROTOCOL.md §5), and no storage.
 * A PRODUCE is acknowledged at once with increasing offsets and its batch goes out to every
 * subscriber of the same path as one RECORDS frame; SUBSCRIBE starts at the current offset;
 * CREDIT is ignored. The relays are the ceiling of what this machine and a Node WebSocket
 * client can move, not brokers.
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

/** The epoch every relay channel claims; the relays never restart a log. */
const EPOCH = 1;

export class RelayCore {
  private readonly channels = new Map<string, Channel>();

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
        peer.send(
          encodeFrame({
            type: FrameType.ProduceAck,
            requestId: frame.requestId,
            baseOffset,
            count,
            epoch: EPOCH,
            duplicate: false,
          }),
        );
        this.broadcast(c, baseOffset, frame.batch);
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

  /** One RECORDS frame for the batch, with its base offset set, sent to every subscriber. */
  private broadcast(c: Channel, baseOffset: number, batch: Uint8Array): void {
    if (c.subscribers.size === 0) return;
    const frame = encodeRecordsFrame(c.nextOffset, c.nextOffset, batch);
    const view = new DataView(frame.buffer, frame.byteOffset);
    view.setUint32(17, Math.floor(baseOffset / 0x1_0000_0000));
    view.setUint32(21, baseOffset % 0x1_0000_0000);
    for (const peer of c.subscribers) peer.send(frame);
  }

  closed(path: string, peer: RelayPeer): void {
    this.channels.get(path)?.subscribers.delete(peer);
  }
}
