/**
 * The official Durable Streams conformance suite (@durable-streams/server-conformance-tests)
 * against a real broker (docs/PROTOCOL.md §18): `wrangler dev`, or the Node host with
 * KAITEN_CONFORMANCE_HOST=node. Run by itself, and counted per host by
 * test/suites/durable-streams-conformance.ts, which checks the count CI expects.
 */
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { beforeAll } from "vitest";
import { type HostKind, useBroker } from "../lib/broker.ts";

/** Shorter than the suite's 5 s default test timeout (docs/DEVELOPMENT.md). */
export const LIVE_WAIT_MS = 2_000;

// The suite makes a stream per test: more than the default topic quota.
const broker = useBroker({
  host: (process.env.KAITEN_CONFORMANCE_HOST ?? "cloudflare") as HostKind,
  vars: { KAITEN_LIVE_WAIT_MS: String(LIVE_WAIT_MS), KAITEN_MAX_TOPICS: "100000" },
});
const options = { baseUrl: "", longPollTimeoutMs: LIVE_WAIT_MS };
beforeAll(() => {
  options.baseUrl = broker().url;
});

runConformanceTests(options);
