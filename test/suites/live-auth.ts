/**
 * Rights on the HTTP live reads and the Durable Streams routes (docs/PROTOCOL.md §15, §17.4,
 * §18.9): the same rights as a WebSocket subscribe, `?token=` for EventSource, and an SSE
 * stream that ends when its token does.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, type TestKeys, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { call, postJson } from "../lib/http.ts";
import { SseReader } from "../lib/sse.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys: TestKeys = await testKeys();

export function liveAuthSuite(host: HostUnderTest): void {
  describe(`rights on live reads on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys, { KAITEN_LIVE_WAIT_MS: "1000" })));
    const url = (path: string) => `${broker().url}${path}`;
    let admin: string;

    beforeAll(async () => {
      admin = await mint({ scope: "admin" });
      const r = await postJson(url("/v1/topics"), { name: "feed" }, bearer(admin));
      expect(r.status).toBe(201);
      await postJson(url("/v1/topics/feed/records"), { records: [{ value: 1 }] }, bearer(admin));
    });

    const reads = (mode: string) => `/v1/topics/feed/partitions/0/records?offset=0&live=${mode}`;

    describe("live reads need subscribe on the topic (§17.4)", () => {
      for (const mode of ["sse", "long-poll"]) {
        it(`refuses ${mode} without a token (401) and with produce only (403)`, async () => {
          expect((await call(url(reads(mode)))).status).toBe(401);
          const producer = await mint({ scope: "produce:feed" });
          expect((await call(url(`${reads(mode)}&token=${producer}`))).status).toBe(403);
        });
      }

      it("serves SSE to a token in the query, as EventSource sends it", async () => {
        const token = await mint({ scope: "subscribe:feed" });
        const reader = await SseReader.open(url(`${reads("sse")}&token=${token}`));
        expect(reader.response.status).toBe(200);
        expect((await reader.nextOf(["records"])).id).toMatch(/^\d+:1$/);
        reader.close();
      });

      it("ends an SSE stream when its token expires", async () => {
        const token = await mint({ scope: "subscribe:feed", ttl: 3 });
        const reader = await SseReader.open(url(`${reads("sse")}&token=${token}`));
        await reader.nextOf(["records"]);
        let event = await reader.next(60_000);
        while (event !== null) event = await reader.next(60_000);
        expect(event).toBeNull();
        const again = await call(url(`${reads("sse")}&token=${token}`));
        expect(again.status).toBe(401);
      });
    });

    describe("Durable Streams rights (§18.9)", () => {
      const stream = (name: string) => url(`/v1/stream/${name}`);
      const put = (name: string, token: string) =>
        fetch(stream(name), {
          method: "PUT",
          headers: { ...bearer(token), "content-type": "text/plain" },
        });

      it("creates and deletes with create, appends with produce, reads with subscribe", async () => {
        const writer = await mint({ scope: "produce:ds-*" });
        const reader = await mint({ scope: "subscribe:ds-*" });
        const owner = await mint({ scope: "create:ds-*" });
        expect((await put("ds-a", writer)).status).toBe(403);
        expect((await put("ds-a", owner)).status).toBe(201);
        const append = (token: string) =>
          fetch(stream("ds-a"), {
            method: "POST",
            headers: { ...bearer(token), "content-type": "text/plain" },
            body: "x",
          });
        expect((await append(reader)).status).toBe(403);
        expect((await append(writer)).status).toBe(204);
        expect((await fetch(stream("ds-a"), { headers: bearer(writer) })).status).toBe(403);
        const read = await fetch(stream("ds-a"), { headers: bearer(reader) });
        expect(await read.text()).toBe("x");
        expect(read.headers.get("cache-control")).toMatch(/^private/);
        expect((await fetch(stream("ds-a"))).status).toBe(401);
        expect(
          (await fetch(stream("ds-a"), { method: "DELETE", headers: bearer(writer) })).status,
        ).toBe(403);
        expect(
          (await fetch(stream("ds-a"), { method: "DELETE", headers: bearer(owner) })).status,
        ).toBe(204);
      });
    });
  });
}
