/**
 * The core's HTTP API in plain Node (docs/PROTOCOL.md §11): handleHttp over a fake broker port
 * and fixed hooks, with Node's own Request and Response. The full behaviour suite runs against
 * real hosts (test/e2e); this checks that the API needs nothing but the port and the hooks.
 */
import { decodeChunk, KaitenError } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { type HttpHost, handleHttp, prepareSocket } from "../src/core/http/api.ts";
import type { AppendInput, BrokerPort, PartitionPort, RegistryPort } from "../src/core/port.ts";
import { brokerSettings } from "../src/core/settings.ts";
import { TopicStore } from "../src/core/topic-store.ts";
import { openSqlite } from "../src/node/sqlite.ts";

function fakePort() {
  const topics = new TopicStore(openSqlite(":memory:"), () => 7);
  const appends: AppendInput[] = [];
  const registry = {
    get: async (name: string) => topics.get(name),
    list: async () => topics.list(),
    create: async (...a: Parameters<TopicStore["create"]>) => topics.create(...a),
    // The port's ensure answers an outcome, as create does (a quota is data, not a throw).
    ensure: async (...a: Parameters<TopicStore["create"]>) => topics.create(...a),
  } as unknown as RegistryPort;
  const partition = {
    append: async (input: AppendInput) => {
      appends.push(input);
      const base = appends.length * 10;
      return { ok: true, value: { baseOffset: base, count: 1, epoch: 1, duplicate: false } };
    },
  } as unknown as PartitionPort;
  const port: BrokerPort = {
    settings: brokerSettings({ KAITEN_AUTH: "off" } as never),
    registry: () => registry,
    partition: () => partition,
    siteKey: () => {
      throw new Error("no site keys here");
    },
    group: () => {
      throw new Error("no groups here");
    },
  };
  return { port, appends };
}

const logged: unknown[] = [];
const host: HttpHost = {
  now: () => 1_000,
  random: () => 0,
  randomBytes: (n) => new Uint8Array(n),
  log: (_message, error) => logged.push(error),
  upgrade: async () => new Response("upgraded"),
};

const at = (path: string, init?: RequestInit) => new Request(`http://broker${path}`, init);

describe("the core's HTTP API in Node", () => {
  it("describes the broker at /v1 with CORS headers", async () => {
    const { port } = fakePort();
    const response = await handleHttp(at("/v1"), port, host);
    expect(response.status).toBe(200);
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(await (response as Response).json()).toMatchObject({ name: "kaiten", auth: "off" });
  });

  it("creates a topic on first produce and appends the records to one partition (§11.2)", async () => {
    const { port, appends } = fakePort();
    const body = JSON.stringify({ records: [{ value: { n: 1 } }, { value: 2 }] });
    const response = await handleHttp(
      at("/v1/topics/t/records", { method: "POST", body }),
      port,
      host,
    );
    expect(await (response as Response).json()).toEqual({
      offsets: [
        { partition: 0, offset: 10 },
        { partition: 0, offset: 11 },
      ],
    });
    expect(appends).toHaveLength(1);
    const records = decodeChunk(appends[0]?.batch as Uint8Array);
    expect(records.map((r) => r.timestamp)).toEqual([1_000, 1_000]);
  });

  it("answers an unknown route with NOT_FOUND as data, not a thrown error (§11.6)", async () => {
    const { port } = fakePort();
    const response = await handleHttp(at("/v1/nothing"), port, host);
    expect(response.status).toBe(404);
    expect(await (response as Response).json()).toMatchObject({ error: { code: "NOT_FOUND" } });
    expect(logged).toEqual([]);
  });

  it("leaves the WebSocket upgrade to the host, after 426 for a request that is not one", async () => {
    const { port } = fakePort();
    const path = "/v1/topics/t/partitions/0/ws";
    expect((await handleHttp(at(path), port, host)).status).toBe(426);
    const upgrade = at(path, { headers: { upgrade: "websocket" } });
    expect(await ((await handleHttp(upgrade, port, host)) as Response).text()).toBe("upgraded");
  });

  it("prepares a socket: the topic, the partition, the grant and the ref (§9)", async () => {
    const { port } = fakePort();
    const s = await prepareSocket(at("/v1/topics/t/partitions/0/ws"), port, host);
    expect(s).toMatchObject({
      partition: 0,
      topic: { name: "t" },
      ref: { topic: "t", partition: 0 },
    });
    await expect(prepareSocket(at("/v1/topics/t/partitions/5/ws"), port, host)).rejects.toThrow(
      KaitenError,
    );
  });
});
