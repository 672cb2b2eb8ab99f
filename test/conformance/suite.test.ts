/**
 * The official Durable Streams conformance suite (@durable-streams/server-conformance-tests)
 * against a real `wrangler dev` (docs/PROTOCOL.md §18). Run by itself, and counted by
 * test/e2e/durable-streams-conformance.test.ts, which checks the count CI expects.
 */
import { runConformanceTests } from "@durable-streams/server-conformance-tests";
import { beforeAll } from "vitest";
import { useBroker } from "../lib/broker.ts";

/** Shorter than the suite's 5 s default test timeout (docs/DEVELOPMENT.md). */
export const LIVE_WAIT_MS = 2_000;

// The suite makes a stream per test: more than the default topic quota.
const broker = useBroker({
  args: ["--var", `KAITEN_LIVE_WAIT_MS:${LIVE_WAIT_MS}`, "--var", "KAITEN_MAX_TOPICS:100000"],
});
const options = { baseUrl: "", longPollTimeoutMs: LIVE_WAIT_MS };
beforeAll(() => {
  options.baseUrl = broker().url;
});

runConformanceTests(options);
