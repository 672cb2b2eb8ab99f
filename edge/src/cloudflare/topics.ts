/** Topic lookups from the Worker, cached briefly per isolate so the registry is off the hot path. */
import { isValidTopicName, KaitenError } from "@kaiten/protocol";
import { checkPartition } from "../core/topic-store.ts";
import { auth, autoCreate, defaultTopicConfig, type Env, registry } from "./env.ts";
import { METRICS_CONFIG, METRICS_TOPIC } from "./metrics.ts";
import { type CreateOutcome, SYSTEM, type Topic } from "./topic-registry.ts";

/** How long an isolate trusts a topic's config before asking the registry again. */
const CACHE_MS = 5_000;
const cache = new Map<string, { topic: Topic; until: number }>();
const MAX_CACHED = 10_000;

export function checkTopicName(name: string): void {
  if (!isValidTopicName(name)) {
    throw new KaitenError("INVALID_TOPIC", "topic names are 1 to 249 of A-Z a-z 0-9 . _ -");
  }
}

/**
 * The topic's config; created with the defaults when auto-create is on and `create` is set
 * (the caller has checked that the principal may create it, PROTOCOL.md §15.2).
 */
export async function lookupTopic(env: Env, name: string, create: boolean): Promise<Topic> {
  checkTopicName(name);
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.topic;
  const reg = registry(env);
  // The metrics topic is the broker's own: whoever looks it up first, it gets its own
  // config, and it exists whether auto-create is on or off (PROTOCOL.md §14).
  const system = name === METRICS_TOPIC;
  const topic = system
    ? await created(reg.ensure(name, METRICS_CONFIG, SYSTEM))
    : create && autoCreate(env)
      ? await created(reg.ensure(name, defaultTopicConfig(env), auth(env).limits))
      : await reg.get(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  remember(topic);
  return topic;
}

async function created(outcome: Promise<CreateOutcome>): Promise<Topic> {
  const o = await outcome;
  if (o.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", o.message);
  return o.topic;
}

export function remember(topic: Topic): void {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(topic.name, { topic, until: Date.now() + CACHE_MS });
}

export function forget(name: string): void {
  cache.delete(name);
}

export { checkPartition };
