/**
 * What differs between the hosts a behaviour suite runs against (STYLE.md habit 4): how to
 * start the broker, and the capability flags a suite consults to skip what a host does not
 * have yet. Everything else is asserted alike on both.
 */
import type { BrokerOptions } from "../lib/broker.ts";

export interface HostUnderTest {
  name: string;
  /** How test/lib/broker.ts starts it. */
  broker: BrokerOptions;
  /** SIGTERM finishes commits in progress and closes every socket with 1001 (going away). */
  gracefulStop: boolean;
}

export const CLOUDFLARE: HostUnderTest = {
  name: "Cloudflare (wrangler dev)",
  broker: {},
  // wrangler dev forwards SIGTERM to workerd, which drops sockets without a close frame.
  gracefulStop: false,
};

export const NODE: HostUnderTest = {
  name: "Node (uWebSockets.js)",
  broker: { host: "node" },
  gracefulStop: true,
};

/** How a suite starts the host's broker with settings of its own (wrangler.toml's vars). */
export function brokerOf(host: HostUnderTest, vars: Record<string, string> = {}): BrokerOptions {
  return { ...host.broker, vars: { ...host.broker.vars, ...vars } };
}
