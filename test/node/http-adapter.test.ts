/**
 * The Node host's uWebSockets.js ↔ WHATWG adapter (edge/src/node/http.ts), in process: what
 * the handler sees of a request, the body limit of PROTOCOL.md §11.6, answers of a fixed
 * length and streamed ones, backpressure towards a client that stops reading, client aborts,
 * and SSE answers finished politely when the server stops.
 */

import uws from "uWebSockets.js";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpAdapter, MAX_BODY_BYTES } from "../../edge/src/node/http.ts";
import { waitUntil } from "../lib/client.ts";

type Route = (request: Request) => Promise<Response> | Response;
const routes = new Map<string, Route>();
const seen: Request[] = [];
const adapter = new HttpAdapter(
  async (request) => {
    seen.push(request);
    const route = routes.get(new URL(request.url).pathname);
    if (!route) return new Response("no route", { status: 404 });
    return route(request);
  },
  { refusalHeaders: { "access-control-allow-origin": "*" }, log: () => {} },
);
let listen: uws.us_listen_socket;
let base = "";

beforeAll(async () => {
  const app = uws.App();
  app.any("/*", adapter.serve);
  listen = await new Promise((resolve) => app.listen("127.0.0.1", 0, (s) => resolve(s)));
  base = `http://127.0.0.1:${uws.us_socket_local_port(listen)}`;
});
afterAll(() => uws.us_listen_socket_close(listen));

const utf8 = new TextEncoder();

/** A body of `total` bytes made on demand, counting what the adapter has pulled from it. */
function counted(total: number, chunk = 64 * 1024) {
  const state = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (state.pulled >= total) return controller.close();
        const n = Math.min(chunk, total - state.pulled);
        controller.enqueue(new Uint8Array(n).fill(97 + ((state.pulled / chunk) % 26)));
        state.pulled += n;
      },
      cancel() {
        state.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { state, stream };
}

/** An SSE-like body: events written by the test, ended by it or by the server stopping. */
function events() {
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  const writer = writable.getWriter();
  return { readable, send: (text: string) => writer.write(utf8.encode(text)), writer };
}

describe("requests", () => {
  it("passes method, path with query, headers and body to the handler", async () => {
    routes.set("/echo", async (r) =>
      Response.json({ method: r.method, url: r.url, body: await r.text() }),
    );
    const r = await fetch(`${base}/echo?a=1&b=%20x`, {
      method: "POST",
      headers: { "x-kaiten": "yes", "content-type": "text/plain" },
      body: "héllo",
    });
    const body = (await r.json()) as { method: string; url: string; body: string };
    expect(body).toEqual({ method: "POST", url: `${base}/echo?a=1&b=%20x`, body: "héllo" });
    expect(seen.at(-1)?.headers.get("x-kaiten")).toBe("yes");
  });

  it("gives a request without body bytes no body, as workerd does", async () => {
    routes.set("/nobody", (r) => new Response(String(r.body === null)));
    expect(await (await fetch(`${base}/nobody`, { method: "DELETE" })).text()).toBe("true");
    expect(await (await fetch(`${base}/nobody`, { method: "POST", body: "" })).text()).toBe("true");
  });

  it("keeps a percent-encoded path as sent", async () => {
    routes.set("/v1/topics/a%20b", (r) => new Response(new URL(r.url).pathname));
    expect(await (await fetch(`${base}/v1/topics/a%20b`)).text()).toBe("/v1/topics/a%20b");
  });

  it("reads a chunked body sent without a content-length", async () => {
    routes.set("/length", async (r) => new Response(String((await r.arrayBuffer()).byteLength)));
    const { stream } = counted(300_000);
    const r = await fetch(`${base}/length`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(await r.text()).toBe("300000");
  });

  it("refuses a body over 1 MiB with 413 FRAME_TOO_LARGE, by content-length or counted bytes", async () => {
    routes.set("/big", () => new Response("handled"));
    const before = seen.length;
    const declared = await fetch(`${base}/big`, {
      method: "POST",
      body: "x".repeat(MAX_BODY_BYTES + 1),
    });
    expect(declared.status).toBe(413);
    expect(declared.headers.get("access-control-allow-origin")).toBe("*");
    expect(await declared.json()).toEqual({
      error: {
        code: "FRAME_TOO_LARGE",
        numericCode: 3,
        retriable: false,
        message: `bodies are at most ${MAX_BODY_BYTES} bytes`,
      },
    });
    const { stream } = counted(3 * MAX_BODY_BYTES);
    const streamed = await fetch(`${base}/big`, {
      method: "POST",
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(seen.length).toBe(before);
  });
});

describe("answers", () => {
  it("sends a complete body with its length, and HEAD, 204 and 304 without one", async () => {
    routes.set("/fixed", (r) =>
      r.method === "HEAD"
        ? new Response(null, { headers: { "content-length": "5", etag: '"e"' } })
        : new Response("hello", { headers: { etag: '"e"', "set-cookie": "a=1" } }),
    );
    routes.set("/empty", () => new Response(null, { status: 204 }));
    routes.set("/same", () => new Response(null, { status: 304, headers: { etag: '"e"' } }));
    const fixed = await fetch(`${base}/fixed`);
    expect(fixed.headers.get("content-length")).toBe("5");
    expect(fixed.headers.get("transfer-encoding")).toBeNull();
    expect(fixed.headers.get("set-cookie")).toBe("a=1");
    expect(await fixed.text()).toBe("hello");
    const head = await fetch(`${base}/fixed`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), head.headers.get("etag")]).toEqual([
      200,
      "5",
      '"e"',
    ]);
    expect((await fetch(`${base}/empty`)).status).toBe(204);
    const same = await fetch(`${base}/same`);
    expect([same.status, same.headers.get("etag")]).toEqual([304, '"e"']);
  });

  it("answers 500 INTERNAL when the handler throws", async () => {
    routes.set("/throws", () => {
      throw new Error("boom");
    });
    const r = await fetch(`${base}/throws`);
    expect(r.status).toBe(500);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe("INTERNAL");
  });

  it("streams a body still being produced, each event as it is written", async () => {
    const sse = events();
    routes.set(
      "/sse",
      () => new Response(sse.readable, { headers: { "content-type": "text/event-stream" } }),
    );
    // Headers leave with the first chunk (uWebSockets.js completes them with the body).
    void sse.send("data: 1\n\n");
    const r = await fetch(`${base}/sse`);
    expect(r.headers.get("transfer-encoding")).toBe("chunked");
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe("data: 1\n\n");
    await new Promise((resolve) => setTimeout(resolve, 50));
    void sse.send("data: 2\n\n");
    expect(decoder.decode((await reader.read()).value)).toBe("data: 2\n\n");
    await sse.writer.close();
    expect((await reader.read()).done).toBe(true);
  });

  it("stops pulling a streamed body while the client does not read, and loses nothing", async () => {
    const total = 256 * 1_048_576;
    const { state, stream } = counted(total);
    routes.set("/slow", () => new Response(stream));
    const paused = new Promise<{ pulled: number; received: number }>((resolve, reject) => {
      const req = httpRequest(`${base}/slow`, (res) => {
        let received = 0;
        let ok = true;
        let expected = 0;
        res.on("data", (d: Buffer) => {
          // Every byte in order: the chunk's letter follows from its offset.
          for (let i = 0; i < d.length; i += 4096) {
            const offset = received + i;
            if (d[i] !== 97 + (Math.floor(offset / (64 * 1024)) % 26)) ok = false;
          }
          received += d.length;
          expected = received;
        });
        res.pause();
        setTimeout(() => {
          const pulled = state.pulled;
          res.resume();
          res.on("end", () =>
            ok && expected === total
              ? resolve({ pulled, received })
              : reject(new Error("bytes out of order")),
          );
        }, 1_000);
      });
      req.on("error", reject);
      req.end();
    });
    const { pulled, received } = await paused;
    // Paused for a second: only what the kernel and uWebSockets.js buffer was pulled.
    expect(pulled).toBeLessThan(64 * 1_048_576);
    expect(received).toBe(total);
  }, 60_000);

  it("cancels a streamed body and aborts the request's signal when the client goes away", async () => {
    const sse = events();
    let signal: AbortSignal | null = null;
    routes.set("/abort", (r) => {
      signal = r.signal;
      return new Response(sse.readable);
    });
    const client = new AbortController();
    void sse.send("data: 1\n\n");
    const r = await fetch(`${base}/abort`, { signal: client.signal });
    await (r.body as ReadableStream<Uint8Array>).getReader().read();
    client.abort();
    await waitUntil(
      () => signal?.aborted === true,
      () => "the request's signal aborted",
    );
    // The server's next write finds the stream cancelled.
    const writes = (async () => {
      for (;;) {
        await sse.send("data: more\n\n");
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    expect(
      await writes.then(
        () => "ended",
        () => "cancelled",
      ),
    ).toBe("cancelled");
    await waitUntil(
      () => adapter.size === 0,
      () => "no request in flight",
    );
  });
});

describe("stopping", () => {
  it("finishes a streamed answer politely, and refuses one still being computed with 503", async () => {
    const sse = events();
    routes.set("/finish", () => new Response(sse.readable));
    void sse.send("data: last\n\n");
    const r = await fetch(`${base}/finish`);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: last\n\n");
    routes.set("/waiting", () => new Promise<Response>(() => {}));
    const waiting = fetch(`${base}/waiting`);
    await waitUntil(
      () => adapter.size === 2,
      () => "both requests in flight",
    );
    await adapter.finishAll();
    expect((await reader.read()).done).toBe(true);
    // Still unanswered after the grace: a retriable refusal, not a cut connection.
    const refused = await waiting;
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: "INTERNAL", retriable: true } });
  });
});
