import { type AuthSettings, type AuthVars, authSettings } from "../core/auth/settings.ts";
import type { TopicConfig } from "../core/types.ts";
import type { GroupObject } from "./group-object.ts";
import type { PartitionObject } from "./partition-object.ts";
import type { SiteKeyObject } from "./site-key-object.ts";
import type { TopicRegistry } from "./topic-registry.ts";

/**
 * Bindings and settings; the settings are `[vars]` in wrangler.toml and secrets (see README,
 * "Securing a deployment"); the auth and quota ones are listed in core/auth/settings.ts.
 */
export interface Env extends AuthVars {
  PARTITIONS: DurableObjectNamespace<PartitionObject>;
  REGISTRY: DurableObjectNamespace<TopicRegistry>;
  SITE_KEYS: DurableObjectNamespace<SiteKeyObject>;
  GROUPS: DurableObjectNamespace<GroupObject>;
  /** "false" turns off creating a topic on first produce or subscribe. Default: "true". */
  KAITEN_AUTO_CREATE_TOPICS?: string;
  /** Partitions of an auto-created topic. Default: 1. */
  KAITEN_DEFAULT_PARTITIONS?: string;
  /** Time retention of a new topic, in ms; -1 keeps records forever. Default: 7 days. */
  KAITEN_DEFAULT_RETENTION_MS?: string;
  /** Size retention per partition of a new topic, in bytes; -1: no limit. Default: 1 GiB. */
  KAITEN_DEFAULT_RETENTION_BYTES?: string;
  /** Largest record of a new topic, in bytes (at most 1,000,000). Default: 1,000,000. */
  KAITEN_DEFAULT_MAX_RECORD_BYTES?: string;
  /** Longest wait of a long-poll read, and between SSE heartbeats, in ms (at most 30,000). Default: 20,000. */
  KAITEN_LIVE_WAIT_MS?: string;
}

function intVar(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isSafeInteger(n) ? n : fallback;
}

export function defaultTopicConfig(env: Env): TopicConfig {
  return {
    partitions: intVar(env.KAITEN_DEFAULT_PARTITIONS, 1),
    retentionMs: intVar(env.KAITEN_DEFAULT_RETENTION_MS, 7 * 24 * 3600 * 1000),
    retentionBytes: intVar(env.KAITEN_DEFAULT_RETENTION_BYTES, 1024 ** 3),
    maxRecordBytes: intVar(env.KAITEN_DEFAULT_MAX_RECORD_BYTES, 1_000_000),
  };
}

let cachedAuth: { vars: string; settings: AuthSettings } | null = null;

/** The auth settings of this deployment, parsed once per isolate. */
export function auth(env: Env): AuthSettings {
  const vars = JSON.stringify([
    env.KAITEN_AUTH,
    env.KAITEN_JWT_SECRET,
    env.KAITEN_JWT_JWKS,
    env.KAITEN_JWT_ISSUER,
    env.KAITEN_JWT_AUDIENCE,
    env.KAITEN_MAX_TOPICS,
    env.KAITEN_MAX_PARTITIONS,
    env.KAITEN_MAX_SITE_KEYS,
    env.KAITEN_MAX_GROUPS,
  ]);
  if (cachedAuth?.vars !== vars) cachedAuth = { vars, settings: authSettings(env) };
  return cachedAuth.settings;
}

export function autoCreate(env: Env): boolean {
  return env.KAITEN_AUTO_CREATE_TOPICS !== "false";
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
