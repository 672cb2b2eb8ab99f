/**
 * The byte-level half of the uWebSockets.js ↔ WHATWG adapter (http.ts): reading a request's
 * head before uWebSockets.js reuses it, writing a Response's head, telling a complete body
 * from one still being produced.
 */

import type uws from "uWebSockets.js";
import { STATUS_CODES } from "node:http";
import { ErrorCode, type KaitenError } from "@kaiten/protocol";

/** Most bytes of an answer held to send it with a content-length; past it, it is streamed. */
const MAX_FIXED_BYTES = 4 * 1_048_576;

export type ReadResult = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/** The documented error body (PROTOCOL.md §11.6), as the HTTP API answers its own errors. */
export function errorJson(e: KaitenError): string {
  const error = {
    code: e.code,
    numericCode: ErrorCode[e.code],
    retriable: e.retriable,
    message: e.message,
  };
  return JSON.stringify({ error });
}

/** What the handler needs from `HttpRequest`, read before it is gone. */
export interface Head {
  method: string;
  url: string;
  href: string;
  headers: Headers;
}

export function readHead(req: uws.HttpRequest): Head {
  const headers = new Headers();
  req.forEach((k, v) => {
    headers.append(k, v);
  });
  const method = req.getMethod().toUpperCase();
  const url = req.getUrl();
  const query = req.getQuery();
  // The Host header names the origin the client used; the path stays percent-encoded.
  const host = headers.get("host") || "localhost";
  const href = `http://${host}${url}${query ? `?${query}` : ""}`;
  return { method, url, href, headers };
}

export function hasBody(head: Head): boolean {
  return head.method !== "GET" && head.method !== "HEAD";
}

/** Headers uWebSockets.js writes itself (or that describe the connection, not the answer). */
const OWN_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "date"]);

export function writeHead(res: uws.HttpResponse, response: Response, keepLength: boolean): void {
  const reason = response.statusText || STATUS_CODES[response.status] || "";
  res.writeStatus(`${response.status} ${reason}`);
  for (const [k, v] of response.headers) {
    if (k === "set-cookie") continue;
    // A HEAD answer keeps the length of the body it does not send.
    if (OWN_HEADERS.has(k) && !(keepLength && k === "content-length")) continue;
    res.writeHeader(k, v);
  }
  for (const cookie of response.headers.getSetCookie()) res.writeHeader("set-cookie", cookie);
}

/**
 * Reads what a body has ready: every chunk up to its end if it ends within this turn of the
 * event loop (before a setImmediate), else what came so far.
 */
export async function readWithinTurn(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<{
  chunks: Uint8Array[];
  complete: boolean;
  /** The read still in flight when the turn ended: its chunk comes next. */
  pending: Promise<ReadResult> | null;
}> {
  const chunks: Uint8Array[] = [];
  const turn = new Promise<"later">((resolve) => setImmediate(() => resolve("later")));
  let size = 0;
  for (;;) {
    const pending = reader.read();
    // A body that keeps coming past MAX_FIXED_BYTES is streamed, not held in memory.
    if (size > MAX_FIXED_BYTES) return { chunks, complete: false, pending };
    const next = await Promise.race([pending, turn]);
    if (next === "later") return { chunks, complete: false, pending };
    if (next.done) return { chunks, complete: true, pending: null };
    chunks.push(next.value);
    size += next.value.byteLength;
  }
}
