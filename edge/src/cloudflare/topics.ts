/** Topic lookups from the Worker, cached briefly per isolate so the registry is off the hot path. */
import { isValidTopicName, KaitenError } from "@kaiten/protocol";
import { autoCreate, defaultTopicConfig, type Env, registry } from "./env.ts";
import { METRICS_CONFIG, METRICS_TOPIC } from "./metrics.ts";
import type { Topic } from "./topic-registry.ts";

/** How long an isolate trusts a topic's config before asking the registry again. */
const CACHE_MS = 5_000;
const cache = new Map<string, { topic: Topic; until: number }>();
const MAX_CACHED = 10_000;

export function checkTopicName(name: string): void {
  if (!isValidTopicName(name)) {
    throw new KaitenError("INVALID_TOPIC", "topic names are 1 to 249 of A-Z a-z 0-9 . _ -");
  }
}

/** The topic's config; created with the defaults when auto-create is on and `create` is set. */
export async function lookupTopic(env: Env, name: string, create: boolean): Promise<Topic> {
  checkTopicName(name);
  const hit = cache.get(name);
  if (hit && hit.until > Date.now()) return hit.topic;
  const reg = registry(env);
  // The metrics topic is the broker's own: whoever looks it up first, it gets its own
  // config, and it exists whether auto-create is on or off (PROTOCOL.md §14).
  const system = name === METRICS_TOPIC;
  const topic =
    create && (system || autoCreate(env))
      ? await reg.ensure(name, system ? METRICS_CONFIG : defaultTopicConfig(env))
      : await reg.get(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  remember(topic);
  return topic;
}

export function remember(topic: Topic): void {
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(topic.name, { topic, until: Date.now() + CACHE_MS });
}

export function forget(name: string): void {
  cache.delete(name);
}

export function checkPartition(topic: Topic, partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition >= topic.partitions) {
    throw new KaitenError(
      "INVALID_PARTITION",
      `topic "${topic.name}" has partitions 0..${topic.partitions - 1}`,
    );
  }
}
