#!/usr/bin/env node
// `npm run demo`: a synthetic click-stream, so the dashboard shows motion at once. Produces to
// clicks, pageviews and orders with user keys, a daily-looking wave and a burst now and then,
// and runs two subscribers, until Ctrl-C. KAITEN_URL picks the broker (default: npm start's).
import { createClient } from "@kaiten/client";
import WebSocket from "ws";

const url = process.env.KAITEN_URL ?? "http://127.0.0.1:8787";
const TICK_MS = 100;
/** Records per second at the top of the wave, per topic; partitions when the demo creates it. */
const TOPICS = {
  clicks: { rate: 120, partitions: 3 },
  pageviews: { rate: 45, partitions: 2 },
  orders: { rate: 4, partitions: 1 },
};
const PAGES = ["/", "/pricing", "/docs", "/docs/protocol", "/blog", "/signup", "/checkout"];
const ITEMS = ["sushi-set", "miso-soup", "green-tea", "gyoza", "edamame"];

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const user = () => `user-${1 + Math.floor(Math.random() * 60)}`;

const VALUES = {
  clicks: () => ({
    page: pick(PAGES),
    x: Math.floor(Math.random() * 1280),
    y: Math.floor(Math.random() * 800),
    button: pick(["buy", "nav", "link", "cta"]),
  }),
  pageviews: () => ({
    page: pick(PAGES),
    referrer: pick(["google", "direct", "newsletter", "hn"]),
    ms: Math.floor(200 + Math.random() * 1800),
  }),
  orders: () => ({
    item: pick(ITEMS),
    qty: 1 + Math.floor(Math.random() * 3),
    total: Math.round(Math.random() * 4000) / 100,
  }),
};

async function ensureTopics() {
  for (const [name, t] of Object.entries(TOPICS)) {
    const res = await fetch(`${url}/v1/topics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, partitions: t.partitions }),
    });
    // 409: the topic exists with another config; the demo uses it as it is.
    if (!res.ok && res.status !== 409)
      throw new Error(`create ${name}: HTTP ${res.status} ${await res.text()}`);
  }
}

/** The rate multiplier now: a slow wave, and a 3-second burst about every 20 seconds. */
function load(t) {
  const wave = 0.55 + 0.45 * Math.sin(t / 9_000);
  const burst = t % 20_000 < 3_000 ? 4 : 1;
  return wave * burst;
}

async function main() {
  try {
    await ensureTopics();
  } catch (error) {
    console.error(
      `Cannot reach the broker at ${url} (${error.message}). Start it with \`npm start\`.`,
    );
    process.exit(1);
  }
  const client = createClient({ url, WebSocket });
  client.on("status", (s) => {
    if (s.state === "reconnecting")
      console.log(`broker unreachable, retrying (attempt ${s.attempt})…`);
  });
  // Two consumers, so the dashboard has subscribers and records out to show.
  const consumers = [
    client.subscribe("orders", { from: "latest" }, () => {}),
    client.subscribe("clicks", { from: "latest" }, () => {}),
  ];
  console.log(
    `Producing a click-stream to ${url}: ${Object.keys(TOPICS).join(", ")}. Open ${url}/ to watch. Ctrl-C stops.`,
  );

  const started = Date.now();
  const debt = Object.fromEntries(Object.keys(TOPICS).map((n) => [n, 0]));
  let sent = 0;
  let lastReport = { at: started, sent: 0 };
  let stopping = false;
  const inFlight = new Set();

  const timer = setInterval(() => {
    const t = Date.now() - started;
    for (const [name, cfg] of Object.entries(TOPICS)) {
      debt[name] += (cfg.rate * load(t) * TICK_MS) / 1000;
      const n = Math.floor(debt[name]);
      if (!n || inFlight.size > 50) continue;
      debt[name] -= n;
      const records = Array.from({ length: n }, () => ({
        key: user(),
        value: VALUES[name](),
        headers: { source: "demo" },
      }));
      const p = client.produce(name, records).then(
        () => (sent += n),
        (error) => console.error(`produce to ${name} failed: ${error.code ?? ""} ${error.message}`),
      );
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
    }
    if (Date.now() - lastReport.at >= 5_000) {
      const rate = ((sent - lastReport.sent) * 1000) / (Date.now() - lastReport.at);
      console.log(`${sent} records sent (${Math.round(rate)}/s)`);
      lastReport = { at: Date.now(), sent };
    }
  }, TICK_MS);

  const stop = async () => {
    if (stopping) return process.exit(1);
    stopping = true;
    clearInterval(timer);
    console.log("\nstopping…");
    await Promise.race([Promise.all([...inFlight]), new Promise((r) => setTimeout(r, 3_000))]);
    await Promise.all(consumers.map((c) => c.close()));
    await client.close();
    console.log(`${sent} records sent.`);
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main();
