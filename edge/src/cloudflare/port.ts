/**
 * The broker port on Cloudflare (core/port.ts): Durable Object stubs, whose RPC methods have
 * exactly the port's signatures, and the settings parsed once per `env` (vars never change
 * within one). One port per `env`, so the HTTP API's topic cache lives as long as the isolate.
 */
import type { Timers } from "../core/commit-waiters.ts";
import { groupLag as lagOf } from "../core/groups/lag.ts";
import { contextOf, type HttpHooks } from "../core/http/context.ts";
import { lookupTopic } from "../core/http/topic-cache.ts";
import type { BrokerPort, GroupDescription } from "../core/port.ts";
import { brokerSettings } from "../core/settings.ts";
import { type Env, groupStub, partitionStub, registry, siteKeyStub } from "./env.ts";

const ports = new WeakMap<Env, BrokerPort>();

export function cloudflarePort(env: Env): BrokerPort {
  let port = ports.get(env);
  if (!port) {
    port = {
      settings: brokerSettings(env),
      registry: () => registry(env),
      partition: (topic, partition) => partitionStub(env, topic, partition),
      siteKey: (id) => siteKeyStub(env, id),
      group: (name) => groupStub(env, name),
    };
    ports.set(env, port);
  }
  return port;
}

/** The Workers runtime's clock, randomness and log, as the core's HTTP API takes them. */
export const workerHooks: HttpHooks = {
  now: () => Date.now(),
  random: () => Math.random(),
  randomBytes: (n) => crypto.getRandomValues(new Uint8Array(n)),
  log: (message, error) => console.error(message, error),
};

/** The Workers runtime's timers, as the core's services take them. */
export const workerTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as number),
};

/** A group's lag for its `__metrics` records, with the isolate's cached topic lookups. */
export function groupLag(env: Env, d: GroupDescription) {
  const port = cloudflarePort(env);
  const ctx = contextOf(port, workerHooks);
  return lagOf(port, d, (name) => lookupTopic(ctx, name, false));
}
