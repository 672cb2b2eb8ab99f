/**
 * Durable Streams reads (docs/PROTOCOL.md §18.6): catch-up, long-poll and SSE, each read from
 * the stream's partition object, waiting on its bounded waiters between commits.
 */
import { concat, toBase64 } from "@kaiten/protocol";
import {
  formatOffset,
  invalid,
  isJson,
  isText,
  nextCursor,
  parseOffset,
  type StreamPosition,
} from "../durable-stream.ts";
import type { StreamAnswer } from "../stream-store.ts";
import type { Topic } from "../topic-store.ts";
import type { HttpContext } from "./context.ts";
import { answerOf, call, status, topicOf } from "./stream-access.ts";
import {
  pipe,
  Response,
  URL,
  type WebRequest,
  type WebResponse,
  type WebStreamWriter,
  type WebURL,
} from "./web.ts";

/** Most bytes one catch-up response or SSE data event carries. */
const READ_BYTES = 1_048_576;
/** SSE connections end after this, so CDNs can collapse readers (DS PROTOCOL §10.2). */
const SSE_MAX_MS = 55_000;
const utf8 = new TextEncoder();

interface ReadRequest {
  from: StreamPosition;
  live: "long-poll" | "sse" | null;
  cursor: string | null;
}

function readRequest(url: WebURL): ReadRequest {
  const offsets = url.searchParams.getAll("offset");
  if (offsets.length > 1) throw invalid("give one offset");
  if (offsets[0] === "") throw invalid("offset must not be empty");
  const live = url.searchParams.get("live");
  if (live !== null && live !== "long-poll" && live !== "sse")
    throw invalid("live is long-poll or sse");
  if (live !== null && offsets.length === 0) throw invalid(`live=${live} needs an offset`);
  return { from: parseOffset(offsets[0] ?? null), live, cursor: url.searchParams.get("cursor") };
}

type ReadAnswer = Extract<StreamAnswer, { status: "read" }>;

async function readOnce(
  ctx: HttpContext,
  topic: Topic,
  from: StreamPosition,
): Promise<ReadAnswer | WebResponse> {
  const answer = await call(ctx, topic, { op: "read", from, maxBytes: READ_BYTES });
  return answer.status === "read" ? answer : answerOf(answer);
}

export async function read(
  request: WebRequest,
  ctx: HttpContext,
  name: string,
): Promise<WebResponse> {
  const url = new URL(request.url);
  const r = readRequest(url);
  const topic = await topicOf(ctx, name);
  if (!topic) return status(404);
  if (r.live === "sse") return sse(ctx, topic, r);
  const first = await readOnce(ctx, topic, r.from);
  if (first instanceof Response) return first;
  if (r.live === "long-poll") return longPoll(ctx, topic, r, first);
  return catchUp(request, ctx, r, first);
}

function payload(contentType: string, values: Uint8Array[]): Uint8Array {
  if (!isJson(contentType)) return concat(values);
  const text = `[${values.map((v) => new TextDecoder().decode(v)).join(",")}]`;
  return utf8.encode(text);
}

function readHeaders(a: ReadAnswer): Record<string, string> {
  const h: Record<string, string> = {
    "content-type": a.view.contentType,
    "stream-next-offset": formatOffset(a.next),
  };
  const atTail = a.next >= a.view.tail;
  if (atTail) h["stream-up-to-date"] = "true";
  if (atTail && a.view.closed) h["stream-closed"] = "true";
  return h;
}

function catchUp(
  request: WebRequest,
  ctx: HttpContext,
  r: ReadRequest,
  a: ReadAnswer,
): WebResponse {
  const h = readHeaders(a);
  if (r.from === "now")
    return status(200, { ...h, "cache-control": "no-store" }, payload(a.view.contentType, []));
  const closed = h["stream-closed"] ? ":c" : "";
  const etag = `"${a.view.epoch}:${a.start}:${a.next}${closed}"`;
  h.etag = etag;
  h["cache-control"] = cacheControl(ctx);
  if (request.headers.get("if-none-match") === etag) return status(304, h);
  return status(200, h, payload(a.view.contentType, a.values));
}

/**
 * Catch-up answers may be kept for a minute (DS §10.1); with auth on, only by the browser: a
 * shared cache would hand an authorized answer to anyone.
 */
function cacheControl(ctx: HttpContext): string {
  const scope = ctx.port.settings.auth.mode === "off" ? "public" : "private";
  return `${scope}, max-age=60, stale-while-revalidate=300`;
}

async function longPoll(
  ctx: HttpContext,
  topic: Topic,
  r: ReadRequest,
  first: ReadAnswer,
): Promise<WebResponse> {
  let a = first;
  if (a.values.length === 0 && !a.view.closed) {
    const op = { op: "wait", after: a.start, ms: ctx.port.settings.liveWaitMs } as const;
    await call(ctx, topic, op);
    const again = await readOnce(ctx, topic, a.start);
    if (again instanceof Response) return again;
    a = again;
  }
  const h = readHeaders(a);
  if (!(a.view.closed && a.next >= a.view.tail))
    h["stream-cursor"] = nextCursor(ctx.hooks.now(), r.cursor, ctx.hooks.random);
  if (a.values.length === 0) {
    h["stream-up-to-date"] = "true";
    return status(204, h);
  }
  return status(200, h, payload(a.view.contentType, a.values));
}

async function sse(ctx: HttpContext, topic: Topic, r: ReadRequest): Promise<WebResponse> {
  const first = await readOnce(ctx, topic, r.from);
  if (first instanceof Response) return first;
  const { readable, writer } = pipe();
  const h: Record<string, string> = {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
  };
  if (!isText(first.view.contentType)) h["stream-sse-data-encoding"] = "base64";
  pump(ctx, topic, r, first, writer).catch((error) =>
    ctx.hooks.log("[kaiten:stream] SSE stream failed", error),
  );
  return status(200, h, readable);
}

/** Writes data and control events until the stream closes, the client goes, or SSE_MAX_MS. */
async function pump(
  ctx: HttpContext,
  topic: Topic,
  r: ReadRequest,
  first: ReadAnswer,
  writer: WebStreamWriter,
): Promise<void> {
  const until = ctx.hooks.now() + SSE_MAX_MS;
  let a = first;
  let cursor = r.cursor;
  try {
    for (let sent = false; ; ) {
      const atTail = a.next >= a.view.tail;
      const ended = atTail && a.view.closed;
      if (a.values.length > 0 || !sent || ended) {
        cursor = ended ? cursor : nextCursor(ctx.hooks.now(), cursor, ctx.hooks.random);
        // A data event and its control event go in one write, so they arrive together.
        const data = a.values.length > 0 ? dataEvent(a) : "";
        await writer.write(utf8.encode(data + controlEvent(a, atTail, ended, cursor)));
        sent = true;
      }
      if (ended || ctx.hooks.now() >= until) break;
      if (atTail) {
        const ms = Math.min(ctx.port.settings.liveWaitMs, until - ctx.hooks.now());
        const waited = await call(ctx, topic, { op: "wait", after: a.next, ms });
        if (waited.status !== "waited") break;
        if (waited.outcome === "timeout") await writer.write(utf8.encode(": keep-alive\n\n"));
      }
      const next = await readOnce(ctx, topic, a.next);
      if (next instanceof Response) break;
      a = next;
    }
  } finally {
    await writer.close().catch(() => {});
  }
}

function dataEvent(a: ReadAnswer): string {
  const type = a.view.contentType;
  const text = isText(type)
    ? new TextDecoder().decode(payload(type, a.values))
    : toBase64(payload(type, a.values));
  // Every line of the payload becomes a `data:` line: a CR or LF in a record can never end
  // the event or start another (no injection of events).
  const lines = text.split(/\r\n|\r|\n/).map((line) => `data:${line}`);
  return `event: data\n${lines.join("\n")}\n\n`;
}

function controlEvent(
  a: ReadAnswer,
  atTail: boolean,
  ended: boolean,
  cursor: string | null,
): string {
  const control: Record<string, unknown> = { streamNextOffset: formatOffset(a.next) };
  if (ended) control.streamClosed = true;
  else if (cursor !== null) control.streamCursor = cursor;
  if (atTail) control.upToDate = true;
  return `event: control\ndata:${JSON.stringify(control)}\n\n`;
}
