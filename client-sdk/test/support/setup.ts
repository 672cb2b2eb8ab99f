/** One broker per test file, and clients that are closed after each test. */
import { afterAll, afterEach, beforeAll } from "vitest";
import WebSocket from "ws";
import {
  type Client,
  type ClientOptions,
  createClient,
  type Rec,
  type Subscription,
} from "../../src/index.ts";
import type { BrokerOptions } from "./broker.ts";
import { CLOUDFLARE, type SdkBroker, type SdkHost } from "./hosts.ts";

/**
 * One broker for the file (or the suite), on `host`; `options()` is read when it starts (test
 * keys may be made in a hook). Default host: Cloudflare (wrangler dev)
 */
export function useBroker(
  options: () => BrokerOptions = () => ({}),
  host: SdkHost = CLOUDFLARE,
): () => SdkBroker {
  let broker: SdkBroker | undefined;
  beforeAll(async () => {
    broker = await host.start(options());
  });
  afterEach((ctx) => {
    if (broker && ctx.task.result?.state === "fail") console.error(broker.output);
  });
  afterAll(async () => {
    await broker?.dispose();
  });
  return () => broker as SdkBroker;
}

const clients = new Set<Client>();
afterEach(async () => {
  await Promise.all([...clients].map((c) => c.close()));
  clients.clear();
});

/** A client on Node 20 (`ws` as the WebSocket), closed after the test. */
export function client(url: string, options: Partial<ClientOptions> = {}): Client {
  const c = createClient({ url, WebSocket, ...options });
  clients.add(c);
  return c;
}

let topics = 0;
/** A topic name unique to this run. */
export const topicName = (what: string) => `${what}-${process.pid}-${++topics}`;

/** Takes `n` records from a subscription (it keeps running). */
export async function take<T>(sub: Subscription<T>, n: number): Promise<Rec<T>[]> {
  const out: Rec<T>[] = [];
  if (n === 0) return out;
  const it = sub[Symbol.asyncIterator]();
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

/** Resolves once `check` is true, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 20_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
