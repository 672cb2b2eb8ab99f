/**
 * What every dashboard test needs: a real broker on either host (wrangler dev, or the Node
 * host; both serve the built dashboard at the broker's own URL), Debian's Chromium, traffic
 * over the HTTP API, and screenshots to look at, kept apart per host.
 */
import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type Broker, useBroker } from "../lib/broker.ts";
import { launchChromium } from "../lib/chromium.ts";
import { postJson } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "../suites/hosts.ts";

const ARTIFACTS = fileURLToPath(new URL("./artifacts/", import.meta.url));

export interface Harness {
  broker: Broker;
  browser: Browser;
  /** A new page at `path` of the dashboard, 1440×900, with its console errors collected. */
  open(path?: string): Promise<{ page: Page; errors: string[] }>;
  /** Where an output file goes: artifacts/<host>/<name>, so the hosts' files stay apart. */
  artifact(name: string): string;
  /** A full-page screenshot, artifacts/<host>/<name>.png. */
  screenshot(page: Page, name: string): Promise<void>;
}

/**
 * A broker on `host` and a browser for the current suite. `vars`: the broker's settings, such
 * as test/lib/auth.ts's jwtVars(). Default: none (auth off)
 */
export function useDashboard(
  host: HostUnderTest,
  vars: Record<string, string> = {},
): () => Harness {
  const broker = useBroker(brokerOf(host, vars));
  let browser: Browser | undefined;
  const artifact = (name: string) => `${ARTIFACTS}${broker().host}/${name}`;
  beforeAll(async () => {
    mkdirSync(artifact(""), { recursive: true });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => ({
    broker: broker(),
    browser: browser as Browser,
    async open(path = "/") {
      const page = await (browser as Browser).newPage({ viewport: { width: 1440, height: 900 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => {
        errors.push(String(e));
        // Printed as it happens: a failing wait says only what it waited for.
        console.error(`[dashboard page error] ${e.stack ?? e}`);
      });
      await page.goto(`${broker().url}${path}`);
      return { page, errors };
    },
    artifact,
    async screenshot(page, name) {
      await page.screenshot({ path: artifact(`${name}.png`), fullPage: true });
    },
  });
}

export async function createTopic(url: string, name: string, partitions: number): Promise<void> {
  const r = await postJson(`${url}/v1/topics`, { name, partitions });
  if (r.status !== 201 && r.status !== 200) throw new Error(`create ${name}: ${r.status}`);
}

/** Produces JSON records over HTTP; resolves with each record's partition and offset. */
export async function produce(
  url: string,
  topic: string,
  records: Array<{
    key?: string;
    value: unknown;
    headers?: Record<string, string>;
    timestamp?: number;
  }>,
): Promise<Array<{ partition: number; offset: number }>> {
  const r = await postJson<{ offsets: Array<{ partition: number; offset: number }> }>(
    `${url}/v1/topics/${topic}/records`,
    { records },
  );
  if (r.status !== 200)
    throw new Error(`produce to ${topic}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.offsets;
}

/**
 * Keeps producing about `perSecond` records a second to `topic`, in batches every 100 ms,
 * until the returned function is called (which resolves once the last batch is answered).
 */
export function traffic(url: string, topic: string, perSecond: number): () => Promise<number> {
  let sent = 0;
  let stopped = false;
  const batch = Math.max(1, Math.round(perSecond / 10));
  const loop = (async () => {
    for (let i = 0; !stopped; i++) {
      const started = Date.now();
      const records = Array.from({ length: batch }, (_, j) => ({
        key: `user-${(i * batch + j) % 50}`,
        value: { n: i * batch + j, page: "/pricing", at: started },
      }));
      await produce(url, topic, records).then(
        () => (sent += batch),
        // A broker being restarted refuses some batches; the traffic goes on.
        () => {},
      );
      await new Promise((r) => setTimeout(r, Math.max(0, 100 - (Date.now() - started))));
    }
  })();
  return async () => {
    stopped = true;
    await loop;
    return sent;
  };
}
