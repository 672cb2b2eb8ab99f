/**
 * Live reads over plain HTTP on Kaiten's own API (docs/PROTOCOL.md §17): `live=long-poll`
 * and `live=sse` on GET /v1/topics/{t}/partitions/{p}/records, and the cache headers of
 * catch-up pages. The API (in the Worker, on Cloudflare) reads pages from the partition's
 * owner as any HTTP read does and parks on the owner's bounded waiter set between commits:
 * the owner stays the single writer and holds no per-reader buffers.
 */
import { KaitenError } from "@kaiten/protocol";
import { unwrap } from "../port.ts";
import { refOf } from "../topic-ref.ts";
import type { HttpContext } from "./context.ts";
import { errorBody, json } from "./json.ts";
import { lookupTopic } from "./topic-cache.ts";
import { type ReadPage, readPage } from "./topic-routes.ts";
import {
  pipe,
  Response,
  URL,
  type WebRequest,
  type WebResponse,
  type WebStreamWriter,
  type WebURL,
} from "./web.ts";

/** How long one SSE response lasts before the server ends it (EventSource reconnects). */
export const SSE_MAX_MS = 5 * 60_000;
const utf8 = new TextEncoder();

export interface LiveRead {
  url: WebURL;
  ctx: HttpContext;
  topic: string;
  partition: number;
  /** Until when the caller's rights hold (ms; 0: no end). An SSE stream ends then. */
  expiresAt: number;
}

/** A read of §11.3, §17.1 or §17.2, by the `live` parameter. */
export async function partitionRead(request: WebRequest, r: LiveRead): Promise<WebResponse> {
  const live = r.url.searchParams.get("live");
  if (live === "sse") return sse(request, r);
  if (live === "long-poll") return longPoll(r);
  if (live !== null) throw new KaitenError("INVALID_REQUEST", "live is sse or long-poll");
  return catchUp(request, r);
}

/** The epoch a request's positions belong to (`epoch=`), or null when not given. */
function requestedEpoch(url: WebURL): number | null {
  const raw = url.searchParams.get("epoch");
  if (raw === null) return null;
  if (!/^\d{1,10}$/.test(raw)) throw new KaitenError("INVALID_REQUEST", "epoch is an integer");
  return Number(raw);
}

function checkEpoch(page: ReadPage, epoch: number | null): void {
  if (epoch !== null && epoch !== page.epoch)
    throw new KaitenError(
      "EPOCH_MISMATCH",
      "the log was recreated; its offsets are new",
      page.epoch,
    );
}

/**
 * §17.3: a page that ends before the high watermark cannot change within its epoch, so a
 * request naming the epoch gets an immutable answer a CDN may keep; any page gets an ETag.
 */
async function catchUp(request: WebRequest, r: LiveRead): Promise<WebResponse> {
  const epoch = requestedEpoch(r.url);
  const page = await readPage(r.url, r.ctx, r.topic, r.partition);
  checkEpoch(page, epoch);
  const start = r.url.searchParams.get("offset") ?? r.url.searchParams.get("timestamp") ?? "";
  const etag = `"${page.epoch}:${start}:${page.nextOffset}:${page.records.length}"`;
  const complete = page.nextOffset < page.highWatermark && page.records.length > 0;
  const scope = r.ctx.port.settings.auth.mode === "off" ? "public" : "private";
  const cache =
    complete && epoch !== null ? `${scope}, max-age=31536000, immutable` : `${scope}, no-cache`;
  const headers = { etag, "cache-control": cache };
  if (request.headers.get("if-none-match") === etag)
    return new Response(null, { status: 304, headers });
  const response = json(page);
  for (const [k, v] of Object.entries(headers)) response.headers.set(k, v);
  return response;
}

async function wait(r: LiveRead, after: number, ms: number): Promise<void> {
  const topic = await lookupTopic(r.ctx, r.topic, false);
  const input = { ...refOf(topic, r.partition), after, ms };
  unwrap(await r.ctx.port.partition(r.topic, r.partition).waitForCommit(input));
}

/** §17.1: the page at once if it has records, else after the next commit or the wait. */
async function longPoll(r: LiveRead): Promise<WebResponse> {
  const epoch = requestedEpoch(r.url);
  let page = await readPage(r.url, r.ctx, r.topic, r.partition);
  checkEpoch(page, epoch);
  if (page.records.length === 0) {
    await wait(r, page.nextOffset, waitParam(r));
    page = await readPage(at(r.url, page.nextOffset), r.ctx, r.topic, r.partition);
    checkEpoch(page, epoch);
  }
  const response = json(page);
  response.headers.set("cache-control", "no-store");
  return response;
}

function waitParam(r: LiveRead): number {
  const raw = r.url.searchParams.get("wait");
  const max = r.ctx.port.settings.liveWaitMs;
  if (raw === null) return max;
  const n = Number(raw);
  if (!/^\d{1,6}$/.test(raw)) throw new KaitenError("INVALID_REQUEST", "wait is milliseconds");
  return Math.min(n, max);
}

function at(url: WebURL, offset: number): WebURL {
  const next = new URL(url);
  next.searchParams.delete("timestamp");
  next.searchParams.set("offset", String(offset));
  return next;
}

interface Resume {
  offset: number | null;
  epoch: number | null;
}

/** Where an SSE read starts: `Last-Event-ID` ("epoch:nextOffset") wins over the query. */
function resumeFrom(request: WebRequest, url: WebURL): Resume {
  const id = request.headers.get("last-event-id");
  const m = id === null ? null : /^(\d{1,10}):(\d{1,16})$/.exec(id);
  if (m) return { epoch: Number(m[1]), offset: Number(m[2]) };
  const raw = url.searchParams.get("offset");
  return { epoch: requestedEpoch(url), offset: raw === null ? null : Number(raw) };
}

/**
 * §17.2: Server-Sent Events. The first page is read before the answer, so a bad request or
 * an offset past the high watermark is an HTTP error that stops EventSource's retries.
 */
async function sse(request: WebRequest, r: LiveRead): Promise<WebResponse> {
  const resume = resumeFrom(request, r.url);
  const first = await firstPage(r, resume);
  const { readable, writer } = pipe();
  stream(r, first, writer).catch((error) => r.ctx.hooks.log("[kaiten:live] SSE failed", error));
  return new Response(readable, {
    headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
  });
}

interface FirstPage {
  page: ReadPage;
  /** Events to send before the first page: a reset, a gap. */
  notices: string[];
}

async function firstPage(r: LiveRead, resume: Resume): Promise<FirstPage> {
  const url = resume.offset === null ? r.url : at(r.url, resume.offset);
  let page: ReadPage;
  let lost: { from: number; to: number } | null = null;
  try {
    page = await readPage(url, r.ctx, r.topic, r.partition);
  } catch (error) {
    if (!(error instanceof KaitenError) || error.code !== "OFFSET_OUT_OF_RANGE") throw error;
    page = await readPage(at(r.url, error.detail), r.ctx, r.topic, r.partition);
    const sameEpoch = resume.epoch === null || resume.epoch === page.epoch;
    // Past the high watermark of the same log: a client error, answered as HTTP (416).
    if (sameEpoch && (resume.offset === null || resume.offset > error.detail)) throw error;
    if (sameEpoch) lost = { from: resume.offset as number, to: error.detail };
  }
  if (resume.epoch !== null && resume.epoch !== page.epoch) {
    page = await readPage(at(r.url, page.earliestOffset), r.ctx, r.topic, r.partition);
    const reset = { epoch: page.epoch, earliestOffset: page.earliestOffset };
    return { page, notices: [event("reset", reset)] };
  }
  return { page, notices: lost ? [event("gap", { ...lost, epoch: page.epoch })] : [] };
}

function event(type: string, data: unknown, id?: string): string {
  return `${id ? `id: ${id}\n` : ""}event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Pages as `records` events, heartbeats while idle; ends at SSE_MAX_MS or token expiry. */
async function stream(r: LiveRead, first: FirstPage, writer: WebStreamWriter): Promise<void> {
  const end = Math.min(
    r.ctx.hooks.now() + SSE_MAX_MS,
    r.expiresAt > 0 ? r.expiresAt : Number.POSITIVE_INFINITY,
  );
  const send = (text: string) => writer.write(utf8.encode(text));
  try {
    await send(`retry: 1000\n${first.notices.join("")}`);
    let page = first.page;
    for (;;) {
      if (page.records.length > 0)
        await send(event("records", page, `${page.epoch}:${page.nextOffset}`));
      if (r.ctx.hooks.now() >= end) break;
      if (page.nextOffset >= page.highWatermark) {
        await wait(
          r,
          page.nextOffset,
          Math.min(r.ctx.port.settings.liveWaitMs, end - r.ctx.hooks.now()),
        );
        await send(": keep-alive\n\n");
      }
      const next = await readPage(at(r.url, page.nextOffset), r.ctx, r.topic, r.partition).catch(
        (error: unknown) => error,
      );
      if (next instanceof KaitenError) {
        await send(event("error", errorBody(next)));
        break;
      }
      if (next instanceof Error) throw next;
      page = next as ReadPage;
    }
  } finally {
    await writer.close().catch(() => {});
  }
}
