/**
 * uWebSockets.js ↔ WHATWG: every HTTP request becomes a `Request` (Node 20's global one) for
 * the host-neutral HTTP API, and its `Response` is written back, streamed when its body is
 * still being produced (SSE), with uWebSockets.js backpressure and client aborts honoured.
 *
 * uWebSockets.js rules this file follows:
 * - `HttpRequest` lives only during the handler call: everything is read from it at once.
 * - A handler that answers later must attach `onAborted` first, and must not touch the
 *   `HttpResponse` once aborted (it throws).
 * - Writes from outside a uWS callback (after an `await`) go inside `res.cork`, which sends
 *   status, headers and body in one syscall instead of one per call.
 * - `onData` chunks are reused by uWebSockets.js after the callback: they are copied.
 */

import type uws from "uWebSockets.js";
import { concat, ErrorInfo, KaitenError } from "@kaiten/protocol";
import type { WebRequest } from "../core/http/web.ts";
import {
  errorJson,
  type Head,
  hasBody,
  type ReadResult,
  readHead,
  readWithinTurn,
  writeHead,
} from "./http-io.ts";

/** The HTTP API's largest request body (PROTOCOL.md §11.6), refused here as on Cloudflare. */
export const MAX_BODY_BYTES = 1_048_576;
/**
 * Most bytes of a too-large body read (and dropped) before answering 413: a client still
 * sending when the answer comes would see a reset connection instead of the 413. Past this
 * the connection is closed.
 */
const DRAIN_BYTES = 32 * 1_048_576;
/** How long SIGTERM waits for answers still being computed (a long-poll) before closing. */
const FINISH_GRACE_MS = 2_000;

export type Handler = (request: Request) => Promise<Response>;

/**
 * Node's Request as the core's WebRequest (core/http/web.ts): the same object at run time;
 * only the declared stream types differ between lib.dom and @types/node, which the core's
 * minimal declaration cannot satisfy both of.
 */
export function asWebRequest(request: Request): WebRequest {
  return request as unknown as WebRequest;
}

export interface HttpAdapterOptions {
  /** Default: MAX_BODY_BYTES. */
  maxBodyBytes?: number;
  /** Added to the adapter's own refusals (CORS, so a page can read them). Default: none */
  refusalHeaders?: Record<string, string>;
  /** Default: console.error with the "[kaiten:http]" prefix. */
  log?: (message: string, error?: unknown) => void;
}

/** One request in flight, from the handler call until its response ended or was aborted. */
interface Exchange {
  res: uws.HttpResponse;
  method: string;
  url: string;
  aborted: boolean;
  /** The response was ended; `res` must not be touched again. */
  done: boolean;
  /** Aborts the Request's signal: the client went away, or the server is stopping. */
  abort: AbortController;
  /** The body being streamed, cancelled when the client aborts or the server stops. */
  reader: ReadableStreamDefaultReader<Uint8Array> | null;
  /** Wakes a write waiting for `onWritable` (also on abort). */
  wake: (() => void) | null;
  /** Resolves once the exchange ended, whichever way. */
  ended: Promise<void>;
  end: () => void;
}

/** The HTTP side of the Node host: hand `serve` to `app.any`. */
export class HttpAdapter {
  private readonly inFlight = new Set<Exchange>();
  private readonly maxBody: number;
  private readonly log: (message: string, error?: unknown) => void;
  private stopping = false;

  constructor(
    private readonly handler: Handler,
    private readonly options: HttpAdapterOptions = {},
  ) {
    this.maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
    this.log =
      options.log ?? ((message, error) => console.error(`[kaiten:http] ${message}`, error ?? ""));
  }

  /** The uWS route handler. Contains every error: one bad request never reaches the loop. */
  readonly serve = (res: uws.HttpResponse, req: uws.HttpRequest): void => {
    const head = readHead(req);
    const x = this.exchange(res, head);
    void this.run(x, head).catch((error: unknown) => {
      this.log(`${x.method} ${x.url} failed`, error);
      this.close(x);
    });
  };

  /** Requests in flight (for tests and for stopping). */
  get size(): number {
    return this.inFlight.size;
  }

  /**
   * For SIGTERM: streamed answers (SSE) are finished politely, their last event complete and
   * the chunked body terminated, then their connections are closed; answers still being
   * computed get their request's signal aborted and FINISH_GRACE_MS to answer (a long-poll
   * answers at once: the server wakes the partitions' waiting readers), then a retriable 503.
   */
  async finishAll(): Promise<void> {
    this.stopping = true;
    const all = [...this.inFlight];
    for (const x of all) {
      x.abort.abort(new Error("the server is stopping"));
      // The streaming loop sees the end of the body and ends the response.
      void x.reader?.cancel().catch(() => {});
    }
    const grace = new Promise<void>((resolve) => setTimeout(resolve, FINISH_GRACE_MS).unref());
    await Promise.race([Promise.all(all.map((x) => x.ended)), grace]);
    for (const x of [...this.inFlight]) {
      // Not answered yet (a long-poll still waiting): a retriable refusal, not a cut.
      if (x.reader === null) this.stoppingNow(x);
      else this.close(x);
    }
  }

  /** Answers at once, without awaiting anything: 503 INTERNAL (retriable), then closes. */
  private stoppingNow(x: Exchange): void {
    const body = errorJson(new KaitenError("INTERNAL", "the server is stopping"));
    this.finish(x, () => {
      x.res.writeStatus("503 Service Unavailable");
      x.res.writeHeader("content-type", "application/json");
      for (const [k, v] of Object.entries(this.options.refusalHeaders ?? {}))
        x.res.writeHeader(k, v);
      x.res.end(body, true);
    });
  }

  private exchange(res: uws.HttpResponse, head: Head): Exchange {
    let end = () => {};
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    const x: Exchange = {
      res,
      method: head.method,
      url: head.url,
      aborted: false,
      done: false,
      abort: new AbortController(),
      reader: null,
      wake: null,
      ended,
      end: () => {
        this.inFlight.delete(x);
        end();
      },
    };
    this.inFlight.add(x);
    res.onAborted(() => {
      x.aborted = true;
      x.abort.abort(new Error("the client went away"));
      void x.reader?.cancel().catch(() => {});
      x.wake?.();
      x.end();
    });
    return x;
  }

  private async run(x: Exchange, head: Head): Promise<void> {
    const body = hasBody(head) ? await this.readBody(x) : null;
    if (x.aborted) return;
    if (body === TOO_LARGE || body === TOO_LARGE_CLOSE) {
      const e = new KaitenError("FRAME_TOO_LARGE", `bodies are at most ${this.maxBody} bytes`);
      await this.send(x, this.refusal(e), body === TOO_LARGE_CLOSE);
      return;
    }
    if (this.stopping || body === STOPPING) {
      // Retriable: the client tries again once the server is back.
      const e = new KaitenError("INTERNAL", "the server is stopping");
      await this.send(x, this.refusal(e, 503), true);
      return;
    }
    const request = new Request(head.href, {
      method: head.method,
      headers: head.headers,
      // No bytes is no body (`request.body === null`), as workerd gives a bodiless DELETE.
      body: body && body.length > 0 ? body : null,
      signal: x.abort.signal,
    });
    let response: Response;
    try {
      response = await this.handler(request);
    } catch (error) {
      this.log(`${x.method} ${x.url} failed`, error);
      response = this.refusal(new KaitenError("INTERNAL", "the request failed"));
    }
    await this.send(x, response);
  }

  /** The body, or a refusal marker past the limit (after draining up to DRAIN_BYTES). */
  private readBody(x: Exchange): Promise<Uint8Array<ArrayBuffer> | NoBody> {
    return new Promise((resolve) => {
      const parts: Uint8Array[] = [];
      let size = 0;
      // Aborted by the client (run() then stops) or by a stopping server.
      x.abort.signal.addEventListener("abort", () => resolve(STOPPING), { once: true });
      x.res.onData((chunk, isLast) => {
        size += chunk.byteLength;
        // A copy: uWebSockets.js reuses the chunk's memory after this call.
        if (size <= this.maxBody) parts.push(new Uint8Array(chunk.slice(0)));
        // The parts are copies, each over an ArrayBuffer of its own, and `concat` returns the
        // one part or a new array: a fresh ArrayBuffer either way, as `BodyInit` wants.
        if (isLast)
          resolve(size > this.maxBody ? TOO_LARGE : (concat(parts) as Uint8Array<ArrayBuffer>));
        else if (size > DRAIN_BYTES) resolve(TOO_LARGE_CLOSE);
      });
    });
  }

  private refusal(e: KaitenError, status = ErrorInfo[e.code].http): Response {
    return new Response(errorJson(e), {
      status,
      headers: { "content-type": "application/json", ...this.options.refusalHeaders },
    });
  }

  /**
   * Writes a Response. A body complete within one turn of the event loop (any answer built
   * from a string or bytes) is sent with a content-length; one still being produced (SSE) is
   * streamed chunked as it comes.
   */
  private async send(x: Exchange, response: Response, closeConnection = false): Promise<void> {
    if (x.aborted || x.done) return;
    const bodyless =
      x.method === "HEAD" || response.status === 204 || response.status === 304 || !response.body;
    if (bodyless) {
      void response.body?.cancel().catch(() => {});
      // endWithoutBody(undefined, …) would report a length of 2^63: no arguments at all.
      return this.finish(x, () => {
        writeHead(x.res, response, x.method === "HEAD");
        x.res.endWithoutBody();
      });
    }
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    x.reader = reader;
    const { chunks, complete, pending } = await readWithinTurn(reader);
    if (x.aborted) return;
    if (complete) {
      return this.finish(x, () => {
        writeHead(x.res, response, false);
        x.res.end(concat(chunks), closeConnection);
      });
    }
    let next = pending;
    if (chunks.length === 0 && next) {
      // uWebSockets.js completes the header block only with the first body bytes, so a
      // streamed answer's head leaves with its first chunk (an SSE answer starts with one).
      const first = await next.catch(() => ({ done: true as const, value: undefined }));
      if (x.aborted) return;
      if (first.done) {
        return this.finish(x, () => {
          writeHead(x.res, response, false);
          x.res.end();
        });
      }
      chunks.push(first.value);
      next = null;
    }
    let ok = true;
    this.corked(x, () => {
      writeHead(x.res, response, false);
      for (const c of chunks) ok = x.res.write(c);
    });
    if (!ok) await this.writable(x);
    await this.stream(x, reader, next);
  }

  /** Copies the rest of a streamed body, waiting for `onWritable` whenever uWS buffers. */
  private async stream(
    x: Exchange,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    first: Promise<ReadResult> | null,
  ): Promise<void> {
    let read = first;
    for (;;) {
      const next = await (read ?? reader.read()).catch(() => ({
        done: true as const,
        value: undefined,
      }));
      read = null;
      if (x.aborted) return;
      if (next.done) {
        // Terminates the chunked body: the client sees a complete answer. (Not
        // end(…, closeConnection): uWebSockets.js would write a Connection header into the
        // chunked body. A stopping server's connections close when the process exits.)
        return this.finish(x, () => x.res.end());
      }
      let ok = true;
      this.corked(x, () => {
        ok = x.res.write(next.value);
      });
      if (!ok) await this.writable(x);
    }
  }

  /** Resolves once uWebSockets.js drained what it buffered for this response (or on abort). */
  private writable(x: Exchange): Promise<void> {
    if (x.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      x.wake = () => {
        x.wake = null;
        // Continue outside the uWS callback: the continuation writes, corked, as from
        // any other timer, instead of inside uWebSockets.js's own writable handler.
        setImmediate(resolve);
      };
      x.res.onWritable(() => {
        x.wake?.();
        return true;
      });
    });
  }

  private corked(x: Exchange, fn: () => void): void {
    if (x.aborted || x.done) return;
    x.res.cork(fn);
  }

  private finish(x: Exchange, fn: () => void): void {
    if (x.aborted || x.done) return;
    x.res.cork(fn);
    x.done = true;
    x.end();
  }

  /** Closes the connection without an answer (an answer could not be written). */
  private close(x: Exchange): void {
    void x.reader?.cancel().catch(() => {});
    if (!x.aborted && !x.done) {
      x.done = true;
      try {
        x.res.close();
      } catch {
        // Closed meanwhile.
      }
    }
    x.end();
  }
}

const TOO_LARGE: unique symbol = Symbol("too large");
/** Too large, and the client kept sending past DRAIN_BYTES: answer, then close. */
const TOO_LARGE_CLOSE: unique symbol = Symbol("too large; close");
const STOPPING: unique symbol = Symbol("stopping");
type NoBody = typeof TOO_LARGE | typeof TOO_LARGE_CLOSE | typeof STOPPING;
