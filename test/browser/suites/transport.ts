/**
 * The built SDK in Chromium without working WebSockets: a page whose WebSocket is missing,
 * a page behind a proxy that refuses upgrades, and one behind a proxy that holds them without
 * answering (the open timeout, PROTOCOL.md §17.6). "auto" (the default) moves to Server-Sent
 * Events and HTTP produce (dist/sse.js, loaded on demand), and a subscriber switched in the
 * middle of a stream goes on at the next offset.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ChaosProxy } from "../../../client-sdk/test/support/chaos-proxy.ts";
import type { SdkHost } from "../../../client-sdk/test/support/hosts.ts";
import { page, useHarness } from "../harness.ts";

const PAGES = {
  "transport.html": page(
    "index",
    `const q = new URL(location.href).searchParams;
     const topic = q.get("topic");
     // A page (or an extension, or a policy) that took WebSockets away.
     if (q.get("nows")) delete window.WebSocket;
     const options = { url: q.get("url") || "BROKER_URL", minDelayMs: 50, maxDelayMs: 500 };
     if (q.get("open")) options.openTimeoutMs = Number(q.get("open"));
     const client = kaiten.createClient(options);
     window.recs = [];
     window.reader = client.subscribe(topic, { from: "earliest" }, (r) => { recs.push([r.offset, r.value]); });
     window.send = (values) => client.produce(topic, values.map((value) => ({ value })));
     window.requests = (part) => performance.getEntriesByType("resource").filter((e) => e.name.includes(part)).length;`,
  ),
};

declare global {
  interface Window {
    recs: Array<[number, unknown]>;
    send(values: unknown[]): Promise<Array<{ partition: number; offset: number }>>;
    reader: {
      ready(): Promise<void>;
      positions(): Record<number, { offset: number; epoch: number }>;
    };
    requests(part: string): number;
  }
}

export function transportSuite(host: SdkHost): void {
  describe(`the SDK in a browser without WebSockets on ${host.name}`, () => {
    const harness = useHarness(PAGES, undefined, host);
    const proxies: ChaosProxy[] = [];
    afterEach(async () => {
      await Promise.all(proxies.splice(0).map((p) => p.close()));
    });

    it("subscribes and produces over SSE and HTTP when the page has no WebSocket", async () => {
      const h = harness();
      const p = await (await h.context()).newPage();
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(String(e)));
      await p.goto(`${h.origin}/transport.html?topic=browser-nows&nows=1`);
      await p.waitForFunction(() => window.reader !== undefined);
      await p.evaluate(() => window.reader.ready());
      const acks = await p.evaluate(() => window.send([{ a: 1 }, "two", 3]));
      expect(acks).toEqual([0, 1, 2].map((offset) => ({ partition: 0, offset })));
      await p.waitForFunction(() => window.recs.length === 3);
      const got = await p.evaluate(() => window.recs);
      expect(got.map((g) => g[0])).toEqual([0, 1, 2]);
      expect(got[0]?.[1]).toEqual({ a: 1 });
      expect(got[2]?.[1]).toBe(3);
      // Resource timing lists a request once it is done: the open SSE stream is not there yet,
      // the read that started it (SUBSCRIBE's answer, §17.6) and the produce POST are.
      expect(await p.evaluate(() => window.requests("records?limit=1"))).toBeGreaterThanOrEqual(1);
      expect(await p.evaluate(() => window.requests("browser-nows/records"))).toBe(1);
      expect(await p.evaluate(() => window.requests("/dist/sse.js"))).toBe(1);
      expect(errors).toEqual([]);
    });

    it("moves to SSE when a proxy refuses upgrades in the middle of a stream: every record once, in order", async () => {
      const h = harness();
      const proxy = await ChaosProxy.start(h.broker.port);
      proxies.push(proxy);
      const p = await (await h.context()).newPage();
      await p.goto(`${h.origin}/transport.html?topic=browser-switch&url=${proxy.url}`);
      await p.waitForFunction(() => window.reader !== undefined);
      await p.evaluate(() => window.reader.ready());
      await p.evaluate(() => window.send([0, 1, 2, 3, 4]));
      await p.waitForFunction(() => window.recs.length === 5);
      // So far over WebSocket, and the HTTP transport was never loaded.
      expect(proxy.seen.upgrades).toBeGreaterThanOrEqual(1);
      expect(await p.evaluate(() => window.requests("/dist/sse.js"))).toBe(0);

      proxy.refuseUpgrades = true;
      proxy.cutAll();
      // Produced elsewhere while the page switches.
      await fetch(`${h.broker.url}/v1/topics/browser-switch/records`, {
        method: "POST",
        body: JSON.stringify({ records: [5, 6, 7].map((value) => ({ value })) }),
      });
      const acks = await p.evaluate(() => window.send([8, 9]));
      expect(acks).toEqual([8, 9].map((offset) => ({ partition: 0, offset })));
      await p.waitForFunction(() => window.recs.length >= 10, undefined, { timeout: 20_000 });
      await p.waitForTimeout(300);
      const got = await p.evaluate(() => window.recs);
      expect(got.map((g) => g[0])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(got.map((g) => g[1])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(proxy.refused).toBeGreaterThanOrEqual(2);
      expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
      expect(proxy.seen.posts).toBeGreaterThanOrEqual(1);
      expect(await p.evaluate(() => window.reader.positions()[0]?.offset)).toBe(10);
    });

    it("loads sse.js again when its first load failed (the server down then), with nothing left unhandled", async () => {
      const h = harness();
      const proxy = await ChaosProxy.start(h.broker.port);
      proxies.push(proxy);
      proxy.refuseUpgrades = true;
      const p = await (await h.context()).newPage();
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(String(e)));
      let asked = 0;
      await p.route("**/dist/sse.js", (route) =>
        ++asked === 1 ? route.abort("connectionrefused") : route.continue(),
      );
      await p.goto(`${h.origin}/transport.html?topic=browser-chunk&url=${proxy.url}`);
      await p.waitForFunction(() => window.reader !== undefined);
      await p.evaluate(() => window.reader.ready());
      const acks = await p.evaluate(() => window.send([0, 1, 2]));
      expect(acks).toEqual([0, 1, 2].map((offset) => ({ partition: 0, offset })));
      await p.waitForFunction(() => window.recs.length === 3);
      expect((await p.evaluate(() => window.recs)).map((g) => g[0])).toEqual([0, 1, 2]);
      // The import that failed, then one at a later refused socket (a browser that keeps a
      // failed module fetch for the page's life would never ask again).
      expect(asked).toBe(2);
      expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
      expect(errors).toEqual([]);
    });

    it("moves to SSE when a proxy holds WebSocket upgrades and never answers them (the open timeout)", async () => {
      const h = harness();
      const proxy = await ChaosProxy.start(h.broker.port);
      proxies.push(proxy);
      proxy.holdUpgrades = true;
      const p = await (await h.context()).newPage();
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(String(e)));
      await p.goto(`${h.origin}/transport.html?topic=browser-held&url=${proxy.url}&open=500`);
      await p.waitForFunction(() => window.reader !== undefined);
      await p.evaluate(() => window.reader.ready());
      const acks = await p.evaluate(() => window.send([0, 1, 2]));
      expect(acks).toEqual([0, 1, 2].map((offset) => ({ partition: 0, offset })));
      await p.waitForFunction(() => window.recs.length === 3);
      expect((await p.evaluate(() => window.recs)).map((g) => g[0])).toEqual([0, 1, 2]);
      // Two sockets and the probe were held, none refused: only the open timeout ended them.
      expect(proxy.held).toBeGreaterThanOrEqual(3);
      expect(proxy.refused).toBe(0);
      expect(proxy.seen.sse).toBeGreaterThanOrEqual(1);
      expect(await p.evaluate(() => window.requests("/dist/sse.js"))).toBe(1);
      expect(errors).toEqual([]);
    });

    it("reads by long-poll behind a proxy that buffers SSE answers, every record once and in order", async () => {
      const h = harness();
      const proxy = await ChaosProxy.start(h.broker.port);
      proxies.push(proxy);
      proxy.bufferSse = true;
      const p = await (await h.context()).newPage();
      const errors: string[] = [];
      p.on("pageerror", (e) => errors.push(String(e)));
      await p.goto(
        `${h.origin}/transport.html?topic=browser-buffered&url=${proxy.url}&nows=1&open=300`,
      );
      await p.waitForFunction(() => window.reader !== undefined);
      await p.evaluate(() => window.reader.ready());
      await p.evaluate(() => window.send([0, 1, 2]));
      await p.waitForFunction(() => window.recs.length === 3, undefined, { timeout: 10_000 });
      await p.evaluate(() => window.send([3, 4]));
      await p.waitForFunction(() => window.recs.length === 5, undefined, { timeout: 10_000 });
      const got = await p.evaluate(() => window.recs);
      expect(got).toEqual([0, 1, 2, 3, 4].map((n) => [n, n]));
      expect(await p.evaluate(() => window.reader.positions()[0]?.offset)).toBe(5);
      expect(proxy.seen.sse).toBe(1);
      expect(proxy.seen.polls).toBeGreaterThanOrEqual(2);
      expect(errors).toEqual([]);
    });
  });
}
