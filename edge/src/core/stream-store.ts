/**
 * A partition object's Durable Stream (docs/PROTOCOL.md §18): its metadata row beside the
 * log, and the checks of every operation, run inside the object so that checks and append
 * happen on the log's single writer. The records themselves are the partition's records.
 */
import {
  concat,
  decodeChunk,
  encodeBatch,
  KaitenError,
  Limits,
  ValueFormat,
} from "@kaiten/protocol";
import type { CommitWaiters, WaitOutcome } from "./commit-waiters.ts";
import {
  expired,
  isJson,
  mediaType,
  type StreamMeta,
  type StreamPosition,
  sameConfig,
} from "./durable-stream.ts";
import type { PartitionLog } from "./partition-log.ts";
import type { SqlDriver } from "./sql.ts";

/** Bytes a fork may copy from its source when created (copy-on-fork, §18.7). */
export const MAX_FORK_BYTES = 16 * 1_048_576;

export type CreateSpec = Pick<
  StreamMeta,
  "contentType" | "ttlSeconds" | "expiresAt" | "closed" | "fork"
> & {
  /** A fork's request without Content-Type or expiry: any inherited value matches (§18.7). */
  inherits?: boolean;
};

export interface Producer {
  id: string;
  epoch: number;
  seq: number;
}

export type StreamOp =
  | { op: "create"; spec: CreateSpec; values: Uint8Array[]; adopt: boolean }
  | {
      op: "append";
      contentType: string | null;
      values: Uint8Array[];
      close: boolean;
      seq: string | null;
      producer: Producer | null;
    }
  | { op: "read"; from: StreamPosition; maxBytes: number }
  | { op: "head" }
  | { op: "delete" }
  | { op: "fork-source"; contentType: string | null; offset: number | null; subOffset: number }
  | { op: "release" }
  | { op: "wait"; after: number; ms: number };

/** What every answer tells about the stream. */
export interface StreamView {
  contentType: string;
  tail: number;
  closed: boolean;
  ttlSeconds: number | null;
  expiresAt: string | null;
  epoch: number;
}

export type StreamAnswer =
  | { status: "missing"; expired: boolean }
  | { status: "gone" }
  | { status: "conflict"; view?: StreamView; reason: string }
  | { status: "created" | "exists" | "soft-deleted"; view: StreamView }
  | { status: "closed-now"; view: StreamView; producer: Producer | null }
  | { status: "deleted"; view: StreamView; fork: StreamMeta["fork"] }
  | { status: "appended" | "duplicate"; view: StreamView; producer: Producer | null }
  | { status: "fenced"; epoch: number }
  | { status: "gap"; expected: number; received: number }
  | { status: "closed"; view: StreamView }
  | {
      status: "read";
      view: StreamView;
      start: number;
      next: number;
      values: Uint8Array[];
    }
  | { status: "source"; view: StreamView; values: Uint8Array[] }
  | { status: "released"; destroyed: boolean; fork: StreamMeta["fork"] }
  | { status: "waited"; outcome: WaitOutcome };

export class StreamStore {
  private meta: StreamMeta | null;
  /** Set when the last lookup found the stream expired: the Worker drops its registry entry. */
  expiredNow = false;

  constructor(
    private readonly sql: SqlDriver,
    private readonly log: PartitionLog,
    private readonly waiters: CommitWaiters,
    /** Deletes the log and closes its sockets (the object's own `destroy`). */
    private readonly destroyLog: () => void,
  ) {
    sql.exec(
      "CREATE TABLE IF NOT EXISTS stream_meta (id INTEGER PRIMARY KEY CHECK (id = 0), meta TEXT NOT NULL)",
    );
    const row = sql.all("SELECT meta FROM stream_meta")[0];
    this.meta = row ? (JSON.parse(String(row.meta)) as StreamMeta) : null;
  }

  /** Whether Kaiten producers must be refused: the stream was closed (§18.4). */
  get closed(): boolean {
    return this.meta?.closed === true && !this.meta.softDeleted;
  }

  /** Forgets the stream (its topic was deleted through Kaiten's own API). */
  wipe(): void {
    this.meta = null;
    this.sql.run("DELETE FROM stream_meta");
  }

  /**
   * Runs one operation. `adopt`: the Worker found a Kaiten topic of one partition with no
   * stream row; it becomes a stream of application/octet-stream (§18.2).
   */
  async run(op: StreamOp, adopt: boolean): Promise<StreamAnswer> {
    this.expiredNow = false;
    if (op.op === "create") return this.create(op.spec, op.values, op.adopt);
    if (op.op === "release") return this.release();
    const meta = this.current(adopt);
    if (!meta) return { status: "missing", expired: this.expiredNow };
    if (meta.softDeleted) return op.op === "fork-source" ? conflict("source deleted") : gone();
    switch (op.op) {
      case "head":
        return { status: "exists", view: this.view(meta) };
      case "read":
        return this.read(meta, op.from, op.maxBytes);
      case "append":
        return this.append(meta, op);
      case "delete":
        return this.remove(meta);
      case "fork-source":
        return this.forkSource(meta, op.contentType, op.offset, op.subOffset);
      case "wait":
        if (meta.closed) return { status: "waited", outcome: "closed" };
        return {
          status: "waited",
          outcome: await this.waiters.wait(op.after, this.log.state.highWatermark, op.ms),
        };
    }
  }

  /** The stream's row, unless it expired (then it is deleted now, lazily). */
  private current(adopt: boolean): StreamMeta | null {
    if (this.meta && !this.meta.softDeleted && expired(this.meta, Date.now())) {
      this.destroy();
      this.expiredNow = true;
      return null;
    }
    if (!this.meta && adopt) this.save(fresh({ contentType: "application/octet-stream" }));
    return this.meta;
  }

  private destroy(): void {
    this.wipe();
    this.destroyLog();
    this.waiters.wakeAll();
  }

  private save(meta: StreamMeta): void {
    this.meta = meta;
    this.sql.run(
      "INSERT INTO stream_meta VALUES (0, ?) ON CONFLICT (id) DO UPDATE SET meta = excluded.meta",
      JSON.stringify(meta),
    );
  }

  /** Reads and writes renew a sliding TTL (HEAD does not). */
  private touch(meta: StreamMeta): void {
    if (meta.ttlSeconds === null) return;
    this.save({ ...meta, touchedAt: Date.now() });
  }

  private view(meta: StreamMeta): StreamView {
    const { contentType, closed, ttlSeconds, expiresAt } = meta;
    const s = this.log.state;
    return { contentType, closed, ttlSeconds, expiresAt, tail: s.highWatermark, epoch: s.epoch };
  }

  private async create(
    spec: CreateSpec,
    values: Uint8Array[],
    adopt: boolean,
  ): Promise<StreamAnswer> {
    const existing = this.current(adopt);
    if (existing?.softDeleted) return conflict("a deleted stream with forks holds this name");
    if (existing) {
      return sameConfig(existing, spec)
        ? { status: "exists", view: this.view(existing) }
        : conflict("the stream exists with another configuration", this.view(existing));
    }
    // Left from a stream that expired before its registry entry went: start empty.
    if (this.log.state.highWatermark > 0) this.destroyLog();
    for (const batch of batches(values, spec.contentType)) await this.appendBatch(batch, null);
    const { inherits: _, ...stored } = spec;
    this.save(fresh(stored));
    return { status: "created", view: this.view(this.meta as StreamMeta) };
  }

  private async append(
    meta: StreamMeta,
    op: Extract<StreamOp, { op: "append" }>,
  ): Promise<StreamAnswer> {
    const p = op.producer;
    const known = p ? this.log.producer(`ds:${p.id}`) : null;
    if (p && known && p.epoch < known.epoch) return { status: "fenced", epoch: known.epoch };
    if (meta.closed) return this.appendToClosed(meta, op);
    if (op.values.length === 0) return this.closeOnly(meta, p);
    if (op.contentType !== null && mediaType(op.contentType) !== mediaType(meta.contentType))
      return conflict("the content type differs from the stream's");
    if (p && known && p.epoch === known.epoch && p.seq <= known.lastSequence)
      return {
        status: "duplicate",
        view: this.view(meta),
        producer: { ...p, seq: known.lastSequence },
      };
    if (op.seq !== null && meta.lastSeq !== null && op.seq <= meta.lastSeq)
      return conflict("Stream-Seq must increase");
    if (p && p.seq !== 0 && (!known || p.epoch > known.epoch))
      throw new KaitenError("INVALID_REQUEST", "a new producer epoch starts at Producer-Seq 0");
    if (p && known && p.epoch === known.epoch && p.seq > known.lastSequence + 1)
      return { status: "gap", expected: known.lastSequence + 1, received: p.seq };
    // Reserved before the commit so a concurrent request sees the new Stream-Seq and closure.
    const next: StreamMeta = {
      ...meta,
      lastSeq: op.seq ?? meta.lastSeq,
      closed: op.close,
      closedBy: op.close && p ? { producerId: p.id, epoch: p.epoch, seq: p.seq } : null,
      touchedAt: Date.now(),
    };
    this.meta = next;
    let duplicate: boolean;
    try {
      duplicate = await this.appendBatch(op.values, p);
    } catch (error) {
      this.meta = meta;
      throw error;
    }
    this.save(next);
    if (op.close) this.waiters.wakeAll();
    const producer = p
      ? { ...p, seq: this.log.producer(`ds:${p.id}`)?.lastSequence ?? p.seq }
      : null;
    return { status: duplicate ? "duplicate" : "appended", view: this.view(next), producer };
  }

  private appendToClosed(meta: StreamMeta, op: Extract<StreamOp, { op: "append" }>): StreamAnswer {
    const p = op.producer;
    const by = meta.closedBy;
    const sameCloser =
      p && by && by.producerId === p.id && by.epoch === p.epoch && by.seq === p.seq;
    if (sameCloser && op.close) return { status: "duplicate", view: this.view(meta), producer: p };
    if (op.values.length === 0 && op.close)
      return { status: "closed-now", view: this.view(meta), producer: null };
    return { status: "closed", view: this.view(meta) };
  }

  private closeOnly(meta: StreamMeta, p: Producer | null): StreamAnswer {
    const closedBy = p ? { producerId: p.id, epoch: p.epoch, seq: p.seq } : null;
    this.save({ ...meta, closed: true, closedBy, touchedAt: Date.now() });
    this.waiters.wakeAll();
    return { status: "closed-now", view: this.view(this.meta as StreamMeta), producer: p };
  }

  /** Appends one batch; answers whether the log recognized it as a retried duplicate. */
  private async appendBatch(values: Uint8Array[], p: Producer | null): Promise<boolean> {
    const format =
      this.meta && isJson(this.meta.contentType) ? ValueFormat.Json : ValueFormat.Bytes;
    const now = Date.now();
    const batch = encodeBatch(
      values.map((value) => ({ key: null, value, format, headers: [], timestamp: now })),
    );
    const r = await this.log.append({
      batch,
      producerId: p ? `ds:${p.id}` : "",
      producerEpoch: p?.epoch ?? 0,
      sequence: p?.seq ?? 0,
      sequencing: "strict",
    });
    return r.duplicate;
  }

  private read(meta: StreamMeta, from: StreamPosition, maxBytes: number): StreamAnswer {
    this.touch(meta);
    const s = this.log.state;
    const start = from === "start" ? s.logStart : from === "now" ? s.highWatermark : from;
    if (start < s.logStart) return gone();
    const values: Uint8Array[] = [];
    let next = start;
    let bytes = 0;
    if (start < s.highWatermark) {
      for (const chunk of this.log.read(start, maxBytes)) {
        for (const r of decodeChunk(chunk.data)) {
          if (r.offset < next) continue;
          if (values.length > 0 && bytes + r.value.length > maxBytes) break;
          values.push(r.value);
          bytes += r.value.length;
          next = r.offset + 1;
        }
      }
    }
    return { status: "read", view: this.view(this.meta as StreamMeta), start, next, values };
  }

  private remove(meta: StreamMeta): StreamAnswer {
    if (meta.forks > 0) {
      this.save({ ...meta, softDeleted: true });
      this.waiters.wakeAll();
      return { status: "soft-deleted", view: this.view(meta) };
    }
    const view = this.view(meta);
    this.destroy();
    return { status: "deleted", view, fork: meta.fork };
  }

  /** A fork of this stream was deleted; a soft-deleted stream with no forks left goes for good. */
  private release(): StreamAnswer {
    const meta = this.meta;
    if (!meta) return { status: "released", destroyed: false, fork: null };
    const forks = Math.max(0, meta.forks - 1);
    if (meta.softDeleted && forks === 0) {
      this.destroy();
      return { status: "released", destroyed: true, fork: meta.fork };
    }
    this.save({ ...meta, forks });
    return { status: "released", destroyed: false, fork: null };
  }

  /** The records a new fork inherits; counts the fork, so this stream outlives it (§18.7). */
  private forkSource(
    meta: StreamMeta,
    contentType: string | null,
    offset: number | null,
    subOffset: number,
  ): StreamAnswer {
    if (contentType !== null && mediaType(contentType) !== mediaType(meta.contentType))
      return conflict("a fork has its source's content type");
    const s = this.log.state;
    const end = offset ?? s.highWatermark;
    if (end > s.highWatermark)
      throw new KaitenError("INVALID_REQUEST", "the fork offset is past the tail");
    const values = this.inherited(meta, end, subOffset);
    this.save({ ...meta, forks: meta.forks + 1 });
    return { status: "source", view: this.view(meta), values };
  }

  private inherited(meta: StreamMeta, end: number, subOffset: number): Uint8Array[] {
    const all: Array<{ offset: number; value: Uint8Array }> = [];
    let bytes = 0;
    let offset = this.log.state.logStart;
    const s = this.log.state;
    while (offset < s.highWatermark) {
      const chunks = this.log.read(offset, 1_048_576);
      if (chunks.length === 0) break;
      for (const c of chunks)
        for (const r of decodeChunk(c.data)) {
          if (r.offset < offset) continue;
          bytes += r.value.length;
          if (bytes > MAX_FORK_BYTES)
            throw new KaitenError(
              "FRAME_TOO_LARGE",
              `a fork copies at most ${MAX_FORK_BYTES} bytes`,
            );
          all.push({ offset: r.offset, value: r.value });
          offset = r.offset + 1;
        }
      if (subOffset === 0 && offset >= end) break;
    }
    const head = all.filter((r) => r.offset < end).map((r) => r.value);
    if (subOffset === 0) return head;
    const rest = all.filter((r) => r.offset >= end).map((r) => r.value);
    if (isJson(meta.contentType)) {
      if (subOffset > rest.length)
        throw new KaitenError("INVALID_REQUEST", "sub-offset past the data");
      return [...head, ...rest.slice(0, subOffset)];
    }
    const tailBytes = concat(rest);
    if (subOffset > tailBytes.length)
      throw new KaitenError("INVALID_REQUEST", "sub-offset past the data");
    return [...head, tailBytes.slice(0, subOffset)];
  }
}

function fresh(spec: Partial<CreateSpec> & { contentType: string }): StreamMeta {
  return {
    ttlSeconds: null,
    expiresAt: null,
    closed: false,
    fork: null,
    ...spec,
    closedBy: null,
    lastSeq: null,
    forks: 0,
    softDeleted: false,
    touchedAt: Date.now(),
  };
}

function conflict(reason: string, view?: StreamView): StreamAnswer {
  return view ? { status: "conflict", reason, view } : { status: "conflict", reason };
}

function gone(): StreamAnswer {
  return { status: "gone" };
}

/** Values split into batches that fit a stored chunk and the batch record limit. */
function batches(values: Uint8Array[], _contentType: string): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const v of values) {
    const size = v.length + 64;
    if (
      current.length > 0 &&
      (bytes + size > Limits.maxChunkBytes - 1024 || current.length >= 1000)
    ) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(v);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
