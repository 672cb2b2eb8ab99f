/**
 * SIGTERM on the Node host (what only this host does): a long-poll waiting for a commit is
 * answered at once, as if its wait ran out (an empty page the client polls again after the
 * restart), instead of waiting out the HTTP adapter's grace and getting a 503.
 */
import { expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { call, postJson } from "../lib/http.ts";

const broker = useBroker({ host: "node", vars: { KAITEN_LIVE_WAIT_MS: "30000" } });

it("answers a waiting long-poll at once on SIGTERM, with an empty page, and exits 0", async () => {
  const base = `${broker().url}/v1/topics/stop-lp`;
  await postJson(`${base}/records`, { records: [{ value: 1 }] });
  const waiting = call<{ records: unknown[]; nextOffset: number }>(
    `${base}/partitions/0/records?offset=1&live=long-poll&wait=30000`,
  );
  // Time for the long-poll to reach the partition's waiters (nothing outside the process
  // shows it parked; on an idle local server it takes a few ms).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const started = Date.now();
  const stopped = broker().stop();
  const page = await waiting;
  const answeredIn = Date.now() - started;
  await stopped;
  expect(page.status).toBe(200);
  expect(page.body).toMatchObject({ records: [], nextOffset: 1 });
  // The adapter's grace is 2 s; a woken reader answers well within it.
  expect(answeredIn).toBeLessThan(1_000);
  expect(broker().logs()).toMatch(/broker exited: 0 ---\s*$/);
});
