/**
 * The Durable Streams protocol at /v1/stream/{name} (docs/PROTOCOL.md §18): HTTP in the
 * core's API, each stream's state and checks in its partition object (stream-store.ts).
 * A stream is the topic {name} of one partition.
 */
import { concat, ErrorInfo, KaitenError, Limits } from "@kaiten/protocol";
import { type Principal, requireRight } from "../auth/access.ts";
import {
  formatOffset,
  invalid,
  isJson,
  jsonMessages,
  parseExpiresAt,
  parseOffset,
  parseTtl,
} from "../durable-stream.ts";
import type { CreateSpec, Producer, StreamAnswer } from "../stream-store.ts";
import type { Topic } from "../topic-store.ts";
import type { HttpContext } from "./context.ts";
import { read } from "./durable-streams-read.ts";
import { errorBody } from "./json.ts";
import { answerOf, call, status, topicOf, unregister, viewHeaders } from "./stream-access.ts";
import { checkTopicName, remember } from "./topic-cache.ts";
import { Response, URL, type WebRequest, type WebResponse, type WebStreamReader } from "./web.ts";

export const STREAM_PATH = /^\/v1\/stream\/([^/]+)$/;
const STREAM_PREFIX = "/v1/stream/";
/** A stream's topic: one partition, kept until deleted or expired (no retention). */
const STREAM_CONFIG = {
  partitions: 1,
  retentionMs: -1,
  retentionBytes: -1,
  maxRecordBytes: Limits.maxRecordBytes,
};
/** Largest append or initial body, in bytes: one stored batch. */
export const MAX_APPEND_BYTES = Limits.maxRecordBytes;
/** Most bytes of a too-large body read (and dropped) before answering 413. */
const DRAIN_BYTES = 32 * 1_048_576;
const utf8 = new TextEncoder();

/** Headers every Durable Streams answer carries (DS PROTOCOL §12.7). */
const SECURITY = {
  "x-content-type-options": "nosniff",
  "cross-origin-resource-policy": "cross-origin",
};

export async function streamRoute(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
  segment: string,
): Promise<WebResponse> {
  let response: WebResponse;
  try {
    response = await dispatch(request, ctx, who, streamName(segment));
  } catch (error) {
    response = failure(ctx, error);
  }
  for (const [k, v] of Object.entries(SECURITY)) response.headers.set(k, v);
  return response;
}

function failure(ctx: HttpContext, error: unknown): WebResponse {
  const e = error instanceof KaitenError ? error : new KaitenError("INTERNAL", "internal error");
  if (!(error instanceof KaitenError)) ctx.hooks.log("[kaiten:stream] request failed", error);
  const status =
    e.code === "FRAME_TOO_LARGE" || e.code === "RECORD_TOO_LARGE"
      ? 413
      : e.code === "INVALID_TOPIC" || e.code === "INVALID_BATCH"
        ? 400
        : undefined;
  const body = JSON.stringify({ error: errorBody(e) });
  const response = new Response(body, {
    status: status ?? httpOf(e),
    headers: { "content-type": "application/json" },
  });
  if (e.code === "THROTTLED") response.headers.set("retry-after", "1");
  return response;
}

function httpOf(e: KaitenError): number {
  if (e.code === "UNKNOWN_TOPIC") return 404;
  if (e.code === "INVALID_REQUEST" || e.code === "INVALID_OFFSET") return 400;
  return ErrorInfo[e.code].http;
}

function streamName(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw invalid("the stream name is not valid percent-encoding");
  }
  checkTopicName(name);
  return name;
}

async function dispatch(request: WebRequest, ctx: HttpContext, who: Principal, name: string) {
  switch (request.method) {
    case "PUT":
      requireRight(who, "create", name);
      return create(request, ctx, name);
    case "POST":
      requireRight(who, "produce", name);
      return append(request, ctx, name);
    case "GET":
      requireRight(who, "subscribe", name);
      return read(request, ctx, name);
    case "HEAD":
      requireRight(who, "subscribe", name);
      return head(ctx, name);
    case "DELETE":
      requireRight(who, "create", name);
      return remove(ctx, name);
    default:
      return new Response(null, {
        status: 405,
        headers: { allow: "GET, HEAD, PUT, POST, DELETE" },
      });
  }
}

function flag(request: WebRequest, header: string): boolean {
  return request.headers.get(header)?.toLowerCase() === "true";
}

/** The body, at most MAX_APPEND_BYTES (413 past it, without reading it all). */
async function body(request: WebRequest): Promise<Uint8Array> {
  if (!request.body) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_APPEND_BYTES) {
      await drain(reader, size);
      throw tooLarge();
    }
    parts.push(value);
  }
  return concat(parts);
}

/**
 * Reads and drops the rest of a body too large to take (up to DRAIN_BYTES): a client that
 * is still sending when the answer comes sees a reset connection instead of the 413.
 */
async function drain(reader: WebStreamReader, read: number) {
  let size = read;
  while (size < DRAIN_BYTES) {
    const { done, value } = await reader.read();
    if (done) return;
    size += value.length;
  }
  await reader.cancel();
}

function tooLarge(): KaitenError {
  return new KaitenError("FRAME_TOO_LARGE", `an append is at most ${MAX_APPEND_BYTES} bytes`);
}

/** The records of a body: JSON messages (an array flattened once), else the bytes as one. */
function valuesOf(contentType: string, bytes: Uint8Array, creating: boolean): Uint8Array[] {
  if (!isJson(contentType)) return bytes.length > 0 ? [bytes] : [];
  if (bytes.length === 0) return [];
  return jsonMessages(new TextDecoder().decode(bytes), creating).map((m) => utf8.encode(m));
}

async function create(request: WebRequest, ctx: HttpContext, name: string): Promise<WebResponse> {
  const ttlSeconds = parseTtl(request.headers.get("stream-ttl"));
  const expiresAt = parseExpiresAt(request.headers.get("stream-expires-at"));
  if (ttlSeconds !== null && expiresAt !== null)
    throw invalid("give Stream-TTL or Stream-Expires-At, not both");
  const fork = forkRequest(request);
  const given = request.headers.get("content-type");
  const spec: CreateSpec = {
    contentType: given ?? (fork ? "" : "application/octet-stream"),
    ttlSeconds,
    expiresAt,
    closed: flag(request, "stream-closed"),
    fork: fork
      ? { source: fork.source, offset: fork.offset ?? -1, subOffset: fork.subOffset }
      : null,
    inherits: fork !== null,
  };
  const bytes = await body(request);
  const known = await topicOf(ctx, name);
  const location = new URL(`${STREAM_PREFIX}${encodeURIComponent(name)}`, request.url).href;
  if (known)
    return created(
      location,
      await call(ctx, known, { op: "create", spec, values: [], adopt: false }),
    );
  let inherited: Uint8Array[] = [];
  let source: Topic | null = null;
  if (fork) {
    source = await topicOf(ctx, fork.source);
    if (!source) return status(404);
    const op = {
      op: "fork-source",
      contentType: given,
      offset: fork.offset,
      subOffset: fork.subOffset,
    } as const;
    const answer = await call(ctx, source, op);
    if (answer.status !== "source") return answerOf(answer);
    inherited = answer.values;
    spec.contentType = spec.contentType || answer.view.contentType;
    if (spec.fork) spec.fork.offset = fork.offset ?? answer.view.tail;
    if (ttlSeconds === null && expiresAt === null) {
      spec.ttlSeconds = answer.view.ttlSeconds;
      spec.expiresAt = answer.view.expiresAt;
    }
  }
  const values = [...inherited, ...valuesOf(spec.contentType, bytes, true)];
  const outcome = await ctx.port
    .registry()
    .create(name, STREAM_CONFIG, ctx.port.settings.auth.limits);
  if (outcome.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", outcome.message);
  remember(ctx, outcome.topic);
  const answer = await call(ctx, outcome.topic, {
    op: "create",
    spec,
    values,
    adopt: outcome.status !== "created",
  });
  if (source && answer.status !== "created") await release(ctx, source.name);
  return created(location, answer);
}

function created(location: string, answer: StreamAnswer): WebResponse {
  if (answer.status === "created") return status(201, { ...viewHeaders(answer.view), location });
  return answerOf(answer);
}

interface ForkRequest {
  source: string;
  offset: number | null;
  subOffset: number;
}

function forkRequest(request: WebRequest): ForkRequest | null {
  const from = request.headers.get("stream-forked-from");
  const rawOffset = request.headers.get("stream-fork-offset");
  const rawSub = request.headers.get("stream-fork-sub-offset");
  if (from === null) {
    if (rawOffset !== null || rawSub !== null)
      throw invalid("fork headers need Stream-Forked-From");
    return null;
  }
  const path = from.startsWith("http") ? new URL(from).pathname : from;
  if (!path.startsWith(STREAM_PREFIX)) throw invalid("Stream-Forked-From is a /v1/stream/ path");
  const source = streamName(path.slice(STREAM_PREFIX.length));
  let offset: number | null = null;
  if (rawOffset !== null) {
    const parsed = parseOffset(rawOffset);
    if (typeof parsed !== "number")
      throw invalid("Stream-Fork-Offset is an offset this server sent");
    offset = parsed;
  }
  if (rawSub !== null && !/^\d{1,15}$/.test(rawSub))
    throw invalid("Stream-Fork-Sub-Offset is a whole number");
  const subOffset = rawSub === null ? 0 : Number(rawSub);
  if (subOffset > 0 && offset === null)
    throw invalid("Stream-Fork-Sub-Offset needs Stream-Fork-Offset");
  return { source, offset, subOffset };
}

function producerOf(request: WebRequest): Producer | null {
  const id = request.headers.get("producer-id");
  const epoch = request.headers.get("producer-epoch");
  const seq = request.headers.get("producer-seq");
  if (id === null && epoch === null && seq === null) return null;
  if (id === null || epoch === null || seq === null)
    throw invalid("Producer-Id, Producer-Epoch and Producer-Seq go together");
  if (id === "") throw invalid("Producer-Id must not be empty");
  return { id, epoch: safeInt(epoch, "Producer-Epoch"), seq: safeInt(seq, "Producer-Seq") };
}

function safeInt(raw: string, header: string): number {
  const n = Number(raw);
  if (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(n))
    throw invalid(`${header} must be an integer from 0 to 2^53-1`);
  return n;
}

async function append(request: WebRequest, ctx: HttpContext, name: string): Promise<WebResponse> {
  const producer = producerOf(request);
  const close = flag(request, "stream-closed");
  const bytes = await body(request);
  const topic = await topicOf(ctx, name);
  if (!topic) return status(404);
  if (bytes.length === 0 && !close)
    throw invalid("an append needs a body (or Stream-Closed: true)");
  const contentType = bytes.length > 0 ? request.headers.get("content-type") : null;
  if (bytes.length > 0 && contentType === null) throw invalid("an append needs a Content-Type");
  const values = contentType === null ? [] : valuesOf(contentType, bytes, false);
  const seq = request.headers.get("stream-seq");
  const answer = await call(ctx, topic, {
    op: "append",
    contentType,
    values,
    close,
    seq,
    producer,
  });
  if (
    answer.status !== "appended" &&
    answer.status !== "duplicate" &&
    answer.status !== "closed-now"
  )
    return answerOf(answer);
  const h: Record<string, string> = { "stream-next-offset": formatOffset(answer.view.tail) };
  if (answer.view.closed) h["stream-closed"] = "true";
  if (answer.producer) {
    h["producer-epoch"] = String(answer.producer.epoch);
    h["producer-seq"] = String(answer.producer.seq);
  }
  return status(answer.status === "appended" && producer ? 200 : 204, h);
}

async function head(ctx: HttpContext, name: string): Promise<WebResponse> {
  const topic = await topicOf(ctx, name);
  if (!topic) return status(404, { "cache-control": "no-store" });
  const answer = await call(ctx, topic, { op: "head" });
  if (answer.status !== "exists") return answerOf(answer);
  const h: Record<string, string> = { ...viewHeaders(answer.view), "cache-control": "no-store" };
  if (answer.view.ttlSeconds !== null) h["stream-ttl"] = String(answer.view.ttlSeconds);
  if (answer.view.expiresAt !== null) h["stream-expires-at"] = answer.view.expiresAt;
  return status(200, h);
}

async function remove(ctx: HttpContext, name: string): Promise<WebResponse> {
  const topic = await topicOf(ctx, name);
  if (!topic) return status(404);
  const answer = await call(ctx, topic, { op: "delete" });
  if (answer.status === "soft-deleted") return status(204);
  if (answer.status !== "deleted") return answerOf(answer);
  await unregister(ctx, name);
  if (answer.fork) await release(ctx, answer.fork.source);
  return status(204);
}

/** A fork went away: its source counts one fork less, and may go for good (cascading). */
async function release(ctx: HttpContext, source: string): Promise<void> {
  let name: string | null = source;
  for (let depth = 0; name !== null && depth < 64; depth++) {
    const topic = await topicOf(ctx, name);
    if (!topic) return;
    const answer = await call(ctx, topic, { op: "release" });
    if (answer.status !== "released" || !answer.destroyed) return;
    await unregister(ctx, name);
    name = answer.fork?.source ?? null;
  }
}
