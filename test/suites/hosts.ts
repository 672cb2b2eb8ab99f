/**
 * What differs between the hosts a behaviour suite runs against (STYLE.md habit 4): how to
 * start the broker, and the capability flags a suite consults to skip what a host does not
 * have yet. Everything else is asserted alike on both.
 */
import type { Broker, BrokerOptions } from "../lib/broker.ts";
import { workerdPids } from "../lib/proc.ts";

export interface HostUnderTest {
  name: string;
  /** How test/lib/broker.ts starts it. */
  broker: BrokerOptions;
  /** SIGTERM finishes commits in progress and closes every socket with 1001 (going away). */
  gracefulStop: boolean;
  /** The process that runs the partitions, whose memory a suite watches. */
  runtimePid(broker: Broker): number;
}

export const CLOUDFLARE: HostUnderTest = {
  name: "Cloudflare (wrangler dev)",
  broker: {},
  // wrangler dev forwards SIGTERM to workerd, which drops sockets without a close frame.
  gracefulStop: false,
  // wrangler dev's group also holds wrangler itself and esbuild: the partitions run in workerd.
  runtimePid: (broker) => workerdPids(broker.processGroup, broker.port).runtime,
};

export const NODE: HostUnderTest = {
  name: "Node (uWebSockets.js)",
  broker: { host: "node" },
  gracefulStop: true,
  // Spawned on its own, so its process id is its group's.
  runtimePid: (broker) => broker.processGroup,
};

/** How a suite starts the host's broker with settings of its own (wrangler.toml's vars). */
export function brokerOf(host: HostUnderTest, vars: Record<string, string> = {}): BrokerOptions {
  return { ...host.broker, vars: { ...host.broker.vars, ...vars } };
}
