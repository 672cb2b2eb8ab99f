/** The built SDK in Chromium: subscribe and produce, and resume after the browser goes offline. */
import { describe, expect, it } from "vitest";
import type { SdkHost } from "../../../client-sdk/test/support/hosts.ts";
import { page, useHarness } from "../harness.ts";

const PAGES = {
  "client.html": page(
    "index",
    `const topic = new URL(location.href).searchParams.get("topic");
     const client = kaiten.createClient({ url: "BROKER_URL", minDelayMs: 50, maxDelayMs: 500 });
     window.client = client;
     window.got = [];
     window.states = [];
     client.on("status", (s) => states.push(s.state));
     window.sub = client.subscribe(topic, { from: "earliest" }, (r) => { got.push([r.partition, r.offset, r.value]); });
     window.produce = (values) => client.produce(topic, values.map((value) => ({ value })));`,
  ),
};

declare global {
  interface Window {
    got: Array<[number, number, unknown]>;
    states: string[];
    produce(values: unknown[]): Promise<Array<{ partition: number; offset: number }>>;
    sub: { ready(): Promise<void>; positions(): Record<number, { offset: number; epoch: number }> };
  }
}

export function clientSuite(host: SdkHost): void {
  describe(`the SDK in a browser on ${host.name}`, () => {
    const harness = useHarness(PAGES, undefined, host);

    it("subscribes and produces from a page", async () => {
      const h = harness();
      const p = await (await h.context()).newPage();
      await p.goto(`${h.origin}/client.html?topic=browser-rt`);
      await p.waitForFunction(() => window.sub !== undefined);
      await p.evaluate(() => window.sub.ready());
      const acks = await p.evaluate(() => window.produce([{ a: 1 }, "two", 3]));
      expect(acks).toEqual([0, 1, 2].map((offset) => ({ partition: 0, offset })));
      await p.waitForFunction(() => window.got.length === 3);
      const got = await p.evaluate(() => window.got);
      expect(got.map((g) => g[1])).toEqual([0, 1, 2]);
      expect(got[0]?.[2]).toEqual({ a: 1 });
    });

    it("opens its sockets without a console warning (no binaryType outside the browser's enum)", async () => {
      const h = harness();
      const p = await (await h.context()).newPage();
      const warnings: string[] = [];
      p.on("console", (m) => {
        if (m.type() === "warning") warnings.push(m.text());
      });
      await p.goto(`${h.origin}/client.html?topic=browser-console`);
      await p.waitForFunction(() => window.sub !== undefined);
      await p.evaluate(() => window.sub.ready());
      await p.evaluate(() => window.produce([1]));
      await p.waitForFunction(() => window.got.length === 1);
      // Chromium said "The provided value 'nodebuffer' is not a valid enum value of type BinaryType."
      expect(warnings).toEqual([]);
    });

    it("resumes after the browser was offline: every record once, in order", async () => {
      const h = harness();
      const context = await h.context();
      const p = await context.newPage();
      await p.goto(`${h.origin}/client.html?topic=browser-offline`);
      await p.waitForFunction(() => window.sub !== undefined);
      await p.evaluate(() => window.sub.ready());
      await p.evaluate(() => window.produce([0, 1, 2]));
      await p.waitForFunction(() => window.got.length === 3);

      await context.setOffline(true);
      await p.waitForFunction(() => window.states.includes("reconnecting"), undefined, {
        timeout: 20_000,
      });
      // Produced elsewhere while this page is offline.
      const res = await fetch(`${h.broker.url}/v1/topics/browser-offline/records`, {
        method: "POST",
        body: JSON.stringify({ records: [3, 4, 5, 6].map((value) => ({ value })) }),
      });
      expect(res.status).toBe(200);
      await context.setOffline(false);
      await p.waitForFunction(() => window.got.length >= 7, undefined, { timeout: 20_000 });
      await p.evaluate(() => window.produce([7]));
      await p.waitForFunction(() => window.got.length >= 8);
      const got = await p.evaluate(() => window.got);
      expect(got.map((g) => g[1])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(got.map((g) => g[2])).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(await p.evaluate(() => window.sub.positions()[0]?.offset)).toBe(8);
    });
  });
}
