/** Topic lookups of the HTTP API, cached briefly so the registry is off the hot path. */
import { isValidTopicName, KaitenError } from "@kaiten/protocol";
import { METRICS_CONFIG, METRICS_TOPIC } from "../system-topics.ts";
import type { CreateOutcome, Topic } from "../topic-store.ts";
import { checkPartition } from "../topic-store.ts";
import type { HttpContext } from "./context.ts";

/** How long a host trusts a topic's config before asking the registry again. */
const CACHE_MS = 5_000;
const MAX_CACHED = 10_000;
/** The broker's own topics count against no quota. */
const SYSTEM = null;

/** Topic configs by name, each trusted until `until` (ms since the epoch). */
export class TopicCache {
  private readonly entries = new Map<string, { topic: Topic; until: number }>();

  get(name: string, now: number): Topic | null {
    const hit = this.entries.get(name);
    return hit && hit.until > now ? hit.topic : null;
  }

  set(topic: Topic, now: number): void {
    if (this.entries.size >= MAX_CACHED) this.entries.clear();
    this.entries.set(topic.name, { topic, until: now + CACHE_MS });
  }

  delete(name: string): void {
    this.entries.delete(name);
  }
}

export function checkTopicName(name: string): void {
  if (!isValidTopicName(name)) {
    throw new KaitenError("INVALID_TOPIC", "topic names are 1 to 249 of A-Z a-z 0-9 . _ -");
  }
}

/**
 * The topic's config; created with the defaults when auto-create is on and `create` is set
 * (the caller has checked that the principal may create it, PROTOCOL.md §15.2).
 */
export async function lookupTopic(ctx: HttpContext, name: string, create: boolean): Promise<Topic> {
  checkTopicName(name);
  const hit = ctx.topics.get(name, ctx.hooks.now());
  if (hit) return hit;
  const reg = ctx.port.registry();
  const settings = ctx.port.settings;
  // The metrics topic is the broker's own: whoever looks it up first, it gets its own
  // config, and it exists whether auto-create is on or off (PROTOCOL.md §14).
  const system = name === METRICS_TOPIC;
  const topic = system
    ? await created(reg.ensure(name, METRICS_CONFIG, SYSTEM))
    : create && settings.autoCreate
      ? await created(reg.ensure(name, settings.topicDefaults, settings.auth.limits))
      : await reg.get(name);
  if (!topic) throw new KaitenError("UNKNOWN_TOPIC", `topic "${name}" does not exist`);
  remember(ctx, topic);
  return topic;
}

async function created(outcome: Promise<CreateOutcome>): Promise<Topic> {
  const o = await outcome;
  if (o.status === "limit") throw new KaitenError("LIMIT_EXCEEDED", o.message);
  return o.topic;
}

export function remember(ctx: HttpContext, topic: Topic): void {
  ctx.topics.set(topic, ctx.hooks.now());
}

export function forget(ctx: HttpContext, name: string): void {
  ctx.topics.delete(name);
}

export { checkPartition };
