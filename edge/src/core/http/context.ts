/**
 * What every HTTP handler is given: the broker port, the host's clock, randomness and log,
 * and the topic cache. The core declares no platform globals (no `Date.now`, `crypto`,
 * `console`), so a host passes these in and a test can fix them.
 */
import type { BrokerPort } from "../port.ts";
import { TopicCache } from "./topic-cache.ts";

export interface HttpHooks {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** A number in [0, 1): spreads keyless records over partitions, jitters stream cursors. */
  random(): number;
  /** `n` cryptographically random bytes (new site keys). */
  randomBytes(n: number): Uint8Array;
  /** An unexpected failure (not an error the API answers with a code); `message` names where. */
  log(message: string, error: unknown): void;
}

export interface HttpContext {
  port: BrokerPort;
  hooks: HttpHooks;
  topics: TopicCache;
}

// One topic cache per port: per isolate on Cloudflare (the port is made once per `env`), per
// process on Node.
const caches = new WeakMap<BrokerPort, TopicCache>();

export function contextOf(port: BrokerPort, hooks: HttpHooks): HttpContext {
  let topics = caches.get(port);
  if (!topics) {
    topics = new TopicCache();
    caches.set(port, topics);
  }
  return { port, hooks, topics };
}
