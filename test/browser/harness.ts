/**
 * What every browser test needs: a broker on either host (wrangler dev, or the Node host), a
 * static server for the built SDK and test pages on an origin of its own (the broker allows
 * any origin), and Chromium.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { type BrokerOptions, freePort } from "../../client-sdk/test/support/broker.ts";
import { CLOUDFLARE, type SdkBroker, type SdkHost } from "../../client-sdk/test/support/hosts.ts";
import { launchChromium } from "../lib/chromium.ts";

const DIST = fileURLToPath(new URL("../../client-sdk/dist/", import.meta.url));

export interface Harness {
  broker: SdkBroker;
  browser: Browser;
  /** The static server's origin. */
  origin: string;
  /** The same server as another origin (127.0.0.1 rather than localhost): a site that is not `origin`. */
  otherOrigin: string;
  /** A fresh browser context (own storage, own network state). */
  context(): Promise<BrowserContext>;
}

/** A page that imports the built SDK entry `entry` and runs `script` (a module body). */
export const page = (entry: "index" | "track", script: string) =>
  `<!doctype html><meta charset="utf-8"><title>kaiten test</title><button id="buy" class="cta big">Buy now</button>
<script type="module">import * as kaiten from "/dist/${entry}.js"; window.kaiten = kaiten; ${script}</script>`;

/**
 * `broker`: options of the broker, read when it starts (a jwt broker for the auth tests).
 * Default: auth off. `host`: which host runs it. Default: Cloudflare (wrangler dev)
 */
export function useHarness(
  pages: Record<string, string>,
  broker: () => BrokerOptions = () => ({}),
  host: SdkHost = CLOUDFLARE,
): () => Harness {
  let h: Harness | undefined;
  let server: Server | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    const b = await host.start(broker());
    server = createServer((req, res) => {
      const path = (req.url ?? "/").split("?")[0] as string;
      if (path.startsWith("/dist/")) {
        res.writeHead(200, { "content-type": "text/javascript" });
        return res.end(readFileSync(`${DIST}${path.slice(6).replace(/[^\w.-]/g, "")}`));
      }
      const html = pages[path.slice(1)];
      res.writeHead(html ? 200 : 404, { "content-type": "text/html" });
      res.end(html?.replaceAll("BROKER_URL", b.url) ?? "not found");
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    const browser = await launchChromium();
    h = {
      broker: b,
      browser,
      // "localhost" rather than 127.0.0.1: a secure context, like the https pages the SDK runs on.
      origin: `http://localhost:${port}`,
      otherOrigin: `http://127.0.0.1:${port}`,
      async context() {
        const c = await browser.newContext();
        contexts.push(c);
        return c;
      },
    };
  });
  // The broker's side of a failure (either host's log), as test/lib/broker.ts's useBroker does.
  afterEach((ctx) => {
    if (h && ctx.task.result?.state === "fail")
      console.error(`--- broker output (tail) ---\n${h.broker.output}`);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => {})));
    await h?.browser.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await h?.broker.dispose();
  });
  return () => h as Harness;
}
