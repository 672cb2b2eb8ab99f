import { type AuthSettings, type AuthVars, authSettings } from "../core/auth/settings.ts";
import { type SettingVars, topicDefaults } from "../core/settings.ts";
import type { TopicConfig } from "../core/types.ts";
import type { GroupObject } from "./group-object.ts";
import type { PartitionObject } from "./partition-object.ts";
import type { SiteKeyObject } from "./site-key-object.ts";
import type { TopicRegistry } from "./topic-registry.ts";

/**
 * Bindings and settings; the settings are `[vars]` in wrangler.toml and secrets (see README,
 * "Securing a deployment"); the auth and quota ones are listed in core/auth/settings.ts.
 */
export interface Env extends AuthVars, SettingVars {
  PARTITIONS: DurableObjectNamespace<PartitionObject>;
  REGISTRY: DurableObjectNamespace<TopicRegistry>;
  SITE_KEYS: DurableObjectNamespace<SiteKeyObject>;
  GROUPS: DurableObjectNamespace<GroupObject>;
  /** The dashboard's files (wrangler.toml [assets]); absent where the Worker runs without them. */
  ASSETS?: Fetcher;
}

/** The defaults of topics created automatically or without these fields. */
export function defaultTopicConfig(env: Env): TopicConfig {
  return topicDefaults(env);
}

const authOf = new WeakMap<Env, AuthSettings>();

/** The auth settings of this deployment, parsed once per `env` object (vars never change within one). */
export function auth(env: Env): AuthSettings {
  let settings = authOf.get(env);
  if (!settings) {
    settings = authSettings(env);
    authOf.set(env, settings);
  }
  return settings;
}

/** The one object that holds every topic's config. */
export function registry(env: Env) {
  return env.REGISTRY.getByName("registry");
}

/** The object that owns one partition's log. */
export function partitionStub(env: Env, topic: string, partition: number) {
  return env.PARTITIONS.getByName(`${topic}/${partition}`);
}

/** The object that holds one site key and its rate-limit bucket. */
export function siteKeyStub(env: Env, id: string) {
  return env.SITE_KEYS.getByName(id);
}

/** The object that coordinates one consumer group. */
export function groupStub(env: Env, group: string) {
  return env.GROUPS.getByName(group);
}
