/** The WebSocket behaviour suite (test/suites/websocket.ts) on the Node host, and what only it has. */
import { describe, expect, it } from "vitest";
import { useBroker } from "../lib/broker.ts";
import { NODE } from "../suites/hosts.ts";
import { websocketSuite } from "../suites/websocket.ts";

websocketSuite(NODE);

describe("Node host start-up", () => {
  const broker = useBroker(NODE.broker);

  it("runs on uWebSockets.js's native addon and says where it listens", async () => {
    const body = await (await fetch(`${broker().url}/v1`)).json();
    expect(body).toMatchObject({ name: "kaiten", protocol: "kaiten.v1" });
    expect(broker().logs()).toContain(
      `Kaiten (Node host, uWebSockets.js native addon) listening on ${broker().url}`,
    );
  });
});
