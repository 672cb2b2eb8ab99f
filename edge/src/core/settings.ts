/**
 * Broker settings from string variables: `[vars]` in wrangler.toml on Cloudflare, environment
 * variables of the same names on Node. One parser, so both hosts read them alike.
 */
import { type AuthVars, authSettings } from "./auth/settings.ts";
import { MAX_WAIT_MS } from "./commit-waiters.ts";
import type { BrokerSettings } from "./port.ts";
import type { TopicConfig } from "./types.ts";

/** The settings, each a string as environments hold them. */
export interface SettingVars {
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

export function topicDefaults(vars: SettingVars): TopicConfig {
  return {
    partitions: intVar(vars.KAITEN_DEFAULT_PARTITIONS, 1),
    retentionMs: intVar(vars.KAITEN_DEFAULT_RETENTION_MS, 7 * 24 * 3600 * 1000),
    retentionBytes: intVar(vars.KAITEN_DEFAULT_RETENTION_BYTES, 1024 ** 3),
    maxRecordBytes: intVar(vars.KAITEN_DEFAULT_MAX_RECORD_BYTES, 1_000_000),
  };
}

export function autoCreateTopics(vars: SettingVars): boolean {
  return vars.KAITEN_AUTO_CREATE_TOPICS !== "false";
}

/** The longest long-poll wait when `KAITEN_LIVE_WAIT_MS` is not set, in ms. */
const DEFAULT_LIVE_WAIT_MS = 20_000;

/** The longest wait of a long-poll, and the heartbeat interval of SSE (KAITEN_LIVE_WAIT_MS). */
export function liveWaitMs(vars: SettingVars): number {
  const n = Number(vars.KAITEN_LIVE_WAIT_MS);
  return Number.isInteger(n) && n > 0 ? Math.min(n, MAX_WAIT_MS) : DEFAULT_LIVE_WAIT_MS;
}

/** Every setting of a deployment, parsed once from its variables (wrangler.toml or the environment). */
export function brokerSettings(vars: AuthVars & SettingVars): BrokerSettings {
  return {
    auth: authSettings(vars),
    autoCreate: autoCreateTopics(vars),
    topicDefaults: topicDefaults(vars),
    liveWaitMs: liveWaitMs(vars),
  };
}
