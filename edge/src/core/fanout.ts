/**
 * Subscriptions of one partition: catch-up from storage in bounded pages, then live push of
 * each commit, with credit-based flow control (docs/PROTOCOL.md §5.2, §5.3). A subscriber
 * out of credit is simply not sent to: it falls back to reading from the log when it grants
 * credit again, so memory never grows with a slow reader and nobody is cut off for being slow.
 */
import {
  concat,
  ErrorCode,
  encodeFrame,
  encodeRecordsFrame,
  errorFrame,
  FrameType,
  filterChunk,
  KaitenError,
  Limits,
  StartFrom,
  type SubscribeFrame,
} from "@kaiten/protocol";
import type { PartitionLog } from "./partition-log.ts";
import { PartitionStats } from "./stats.ts";
import type { Host, LogMeta, PeerSocket, StoredChunk, SubscriptionState } from "./types.ts";

/** Most bytes of records in one catch-up frame. */
export const PAGE_BYTES = 512 * 1024;
/** Most catch-up bytes sent to one subscriber before other events get a turn. */
export const PUMP_SLICE_BYTES = 4 * 1024 * 1024;
/** Subscribers per partition: the runtime's limit on hibernatable sockets per object. */
export const MAX_SUBSCRIBERS = 32_768;

export class Fanout {
  private readonly pumping = new Set<PeerSocket>();

  constructor(
    private readonly log: PartitionLog,
    private readonly host: Host,
    /** Every connected socket of this partition, subscribed or not. */
    private readonly sockets: () => Iterable<PeerSocket>,
    private readonly stats = new PartitionStats(() => host.now()),
  ) {}

  subscribe(socket: PeerSocket, f: SubscribeFrame): void {
    if (socket.getState())
      throw new KaitenError("ALREADY_SUBSCRIBED", "this socket is already subscribed");
    if (this.countSubscribers() >= MAX_SUBSCRIBERS) {
      throw new KaitenError(
        "TOO_MANY_SUBSCRIBERS",
        `a partition serves at most ${MAX_SUBSCRIBERS} subscribers`,
      );
    }
    const meta = this.log.state;
    if (f.epoch !== 0 && f.epoch !== meta.epoch) {
      throw new KaitenError(
        "EPOCH_MISMATCH",
        `the log is at epoch ${meta.epoch}, not ${f.epoch}`,
        meta.epoch,
      );
    }
    const start = this.startOffset(f, meta);
    const credit = Math.min(f.credit, Limits.maxCreditBytes);
    const state: SubscriptionState = {
      requestId: f.requestId,
      nextOffset: start,
      credit,
      live: false,
      key: f.key,
    };
    socket.setState(state);
    socket.send(
      encodeFrame({
        type: FrameType.Subscribed,
        requestId: f.requestId,
        epoch: meta.epoch,
        startOffset: start,
        earliestOffset: meta.logStart,
        highWatermark: meta.highWatermark,
      }),
    );
    this.stats.touched();
    this.pump(socket);
  }

  private startOffset(f: SubscribeFrame, meta: LogMeta): number {
    switch (f.from) {
      case StartFrom.Earliest:
        return meta.logStart;
      case StartFrom.Latest:
        return meta.highWatermark;
      case StartFrom.Timestamp:
        return this.log.offsetForTimestamp(f.position);
      case StartFrom.Offset:
        this.log.checkReadable(f.position);
        return f.position;
    }
  }

  grantCredit(socket: PeerSocket, credit: number): void {
    const state = socket.getState();
    if (!state) throw new KaitenError("NOT_SUBSCRIBED", "grant credit after subscribing");
    state.credit = Math.min(state.credit + credit, Limits.maxCreditBytes);
    socket.setState(state);
    this.pump(socket);
  }

  unsubscribe(socket: PeerSocket, requestId: number): void {
    if (!socket.getState()) throw new KaitenError("NOT_SUBSCRIBED", "nothing to unsubscribe");
    socket.setState(null);
    this.pumping.delete(socket);
    this.stats.touched();
    socket.send(encodeFrame({ type: FrameType.Unsubscribed, requestId }));
  }

  /** The host's send buffer for `socket` emptied: carry on serving it from the log. */
  drained(socket: PeerSocket): void {
    this.pump(socket);
  }

  forget(socket: PeerSocket): void {
    this.pumping.delete(socket);
    this.stats.touched();
  }

  countSubscribers(): number {
    let n = 0;
    for (const s of this.sockets()) if (s.getState()) n++;
    return n;
  }

  /**
   * Sends a lagging subscriber what it may have from storage, a bounded slice per turn.
   * Storage reads are synchronous and nothing else runs in between, so when the subscriber
   * reaches the high watermark it turns live with no commit missed or sent twice.
   */
  private pump(socket: PeerSocket): void {
    let sent = 0;
    for (;;) {
      const state = socket.getState();
      if (!state || state.live || state.credit <= 0) return;
      if (state.nextOffset === this.log.state.highWatermark) {
        state.live = true;
        socket.setState(state);
        return;
      }
      // The host's buffer is full: `drained` carries on when it empties.
      if (!isReady(socket)) return;
      if (sent >= PUMP_SLICE_BYTES) {
        this.continueLater(socket);
        return;
      }
      sent += this.sendPage(socket, state);
    }
  }

  private continueLater(socket: PeerSocket): void {
    if (this.pumping.has(socket)) return;
    this.pumping.add(socket);
    this.host.defer(() => {
      if (!this.pumping.delete(socket)) return;
      try {
        this.pump(socket);
      } catch (error) {
        this.host.log("catch-up failed", error);
      }
    });
  }

  private sendPage(socket: PeerSocket, state: SubscriptionState): number {
    let chunks: StoredChunk[];
    try {
      chunks = this.log.read(state.nextOffset, Math.min(state.credit, PAGE_BYTES));
    } catch (error) {
      if (!(error instanceof KaitenError)) throw error;
      // Retention removed what this subscriber was about to read: say so, never skip silently.
      socket.setState(null);
      socket.send(errorFrame(state.requestId, error));
      return 0;
    }
    const from = state.nextOffset;
    // Only a key filter, or a start inside the first chunk, needs records picked out.
    const parts = chunks.map((c, i) =>
      (i === 0 && from > c.baseOffset) || state.key
        ? select(c.data, from, state.key)
        : { bytes: c.data, count: c.recordCount },
    );
    const last = chunks[chunks.length - 1] as StoredChunk;
    const next = last.baseOffset + last.recordCount;
    const batches = concat(parts.map((p) => p.bytes));
    const frame = encodeRecordsFrame(next, this.log.state.highWatermark, batches);
    socket.send(frame);
    this.stats.sent(
      parts.reduce((n, p) => n + p.count, 0),
      frame.length,
    );
    state.nextOffset = next;
    state.credit -= frame.length;
    socket.setState(state);
    return frame.length;
  }

  /**
   * Called once per group commit. Each chunk is framed once and the same bytes go to every
   * live subscriber without a key filter; key-filtered subscribers share one frame per key.
   */
  broadcast(chunks: readonly StoredChunk[], meta: LogMeta): void {
    for (const chunk of chunks) this.broadcastChunk(chunk, meta);
  }

  private broadcastChunk(chunk: StoredChunk, meta: LogMeta): void {
    const next = chunk.baseOffset + chunk.recordCount;
    // Framed on first use: with no live subscriber, a commit copies nothing.
    let shared: KeyFrame | null = null;
    const sharedFrame = (): KeyFrame => {
      shared ??= {
        frame: encodeRecordsFrame(next, meta.highWatermark, chunk.data),
        count: chunk.recordCount,
      };
      return shared;
    };
    const byKey = new Map<string, KeyFrame>();
    let delivered = false;
    for (const socket of this.sockets()) {
      const state = socket.getState();
      if (!state?.live) continue;
      if (state.nextOffset !== chunk.baseOffset || state.credit <= 0 || !isReady(socket)) {
        // Out of credit, its buffer full (or, defensively, out of step): stop pushing; the log
        // serves it later, when it grants credit or its buffer drains.
        state.live = false;
        socket.setState(state);
        continue;
      }
      const { frame, count } = state.key
        ? this.keyFrame(byKey, chunk, next, meta, state.key)
        : sharedFrame();
      try {
        socket.send(frame);
      } catch (error) {
        this.host.log("send to a subscriber failed", error);
        continue;
      }
      this.stats.sent(count, frame.length);
      delivered = true;
      state.nextOffset = next;
      state.credit -= frame.length;
      socket.setState(state);
    }
    if (delivered) this.stats.delivered(this.host.now() - chunk.maxTimestamp);
  }

  private keyFrame(
    cache: Map<string, KeyFrame>,
    chunk: StoredChunk,
    next: number,
    meta: LogMeta,
    key: Uint8Array,
  ): KeyFrame {
    const id = key.join(",");
    let hit = cache.get(id);
    if (!hit) {
      const { bytes, count } = select(chunk.data, chunk.baseOffset, key);
      hit = { frame: encodeRecordsFrame(next, meta.highWatermark, bytes), count };
      cache.set(id, hit);
    }
    return hit;
  }

  /**
   * Ends every subscription and closes every socket because of `error` (the log was deleted):
   * an ERROR frame, then close code 4000 + its number, as §9 requires.
   */
  closeAll(error: KaitenError): void {
    for (const socket of this.sockets()) {
      const requestId = socket.getState()?.requestId ?? 0;
      socket.setState(null);
      try {
        socket.send(errorFrame(requestId, error));
      } catch (e) {
        this.host.log("send to a closing socket failed", e);
      }
      socket.close(4000 + ErrorCode[error.code], error.code);
    }
    this.pumping.clear();
  }
}

interface KeyFrame {
  frame: Uint8Array;
  /** Records in the frame, for the metrics stream. */
  count: number;
}

function isReady(socket: PeerSocket): boolean {
  return socket.ready ? socket.ready() : true;
}

/** Records of a chunk at or after `from`, and with `key` when one is set. */
function select(data: Uint8Array, from: number, key: Uint8Array | null) {
  let count = 0;
  const bytes = filterChunk(data, (offset, k) => {
    const keep = offset >= from && (key === null || sameBytes(k, key));
    if (keep) count++;
    return keep;
  });
  return { bytes, count };
}

function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
