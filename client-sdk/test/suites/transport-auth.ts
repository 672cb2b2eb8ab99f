/**
 * Tokens over the HTTP transport (`transport: "sse"`, PROTOCOL.md §15, §17.6) against a broker
 * that checks them: refreshed tokens carry an SSE subscription past the expiry of the first
 * (the broker ends a stream when its token does), a refused token is renewed once, FORBIDDEN
 * is surfaced as over WebSocket, and tokens travel as headers, never in URLs.
 * Run against every host (transport-auth.test.ts: wrangler dev; transport-auth-node.test.ts: the Node host).
 */
import { describe, expect, it } from "vitest";
import { jwtArgs, mint, testKeys } from "../../../test/lib/auth.ts";
import type { Status } from "../../src/index.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, take, topicName, useBroker } from "../support/setup.ts";

// Made once as the test file loads: the broker's settings (read in beforeAll) need the keys.
const keys = await testKeys();
const admin = await mint({ scope: "admin", ttl: 3_600 });

export function transportAuthSuite(host: SdkHost): void {
  describe(`tokens over the HTTP transport on ${host.name}`, () => {
    const broker = useBroker(
      () => ({
        args: jwtArgs(keys),
        headers: { authorization: `Bearer ${admin}` },
      }),
      host,
    );
    const sse = { transport: "sse" as const, minDelayMs: 20, maxDelayMs: 200 };

    function counted(make: () => Promise<string>) {
      const calls: string[] = [];
      const source = async () => {
        const token = await make();
        calls.push(token);
        return token;
      };
      return { source, calls };
    }

    describe("tokens over SSE and HTTP produce", () => {
      it("keeps a subscription past the expiry of its first token: the stream reopens with the refreshed one, at the next offset", async () => {
        const topic = topicName("sse-refresh");
        await broker().createTopic(topic);
        // exp 22 s ago: with the broker's 30 s leeway each token holds 8 s, and the SDK refreshes
        // at its shortest spacing. The broker ends the SSE stream when the first token runs out.
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}`, ttl: -22 }));
        const seen: string[] = [];
        const c = client(broker().url, {
          ...sse,
          token: source,
          fetch: (input, init) => {
            seen.push(String(input));
            return fetch(input, init);
          },
        });
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        const producer = client(broker().url, { token: admin });
        const sent: number[] = [];
        const until = Date.now() + 11_000;
        for (let i = 0; Date.now() < until; i++) {
          await producer.produce(topic, [{ value: i }]);
          sent.push(i);
          await new Promise((r) => setTimeout(r, 100));
        }
        const got = await take(sub, sent.length);
        expect(got.map((r) => r.value)).toEqual(sent);
        expect(got.map((r) => r.offset)).toEqual(sent.map((_, i) => i));
        expect(calls.length).toBeGreaterThan(2);
        // More than one SSE response: the first ended with its token.
        expect(seen.filter((u) => u.includes("live=sse")).length).toBeGreaterThan(1);
        expect(seen.some((u) => u.includes("token="))).toBe(false);
      }, 40_000);

      it("asks once more after a 401 and then gives up with UNAUTHENTICATED", async () => {
        const topic = topicName("sse-unauth");
        await broker().createTopic(topic);
        const { source, calls } = counted(() =>
          mint({ scope: `subscribe:${topic}`, secret: "not-the-broker-secret-0123456789abcdef" }),
        );
        // The topic is looked up over HTTP first, as on WebSocket: that 401 is the SDK's own lookup's.
        const c = client(broker().url, { ...sse, token: source });
        const error = await c.subscribe(topic, { from: "earliest" }).closed;
        expect(error).toMatchObject({ code: "UNAUTHENTICATED", retriable: false });
        expect(calls).toHaveLength(2);
      });

      it("renews the token after a 401 on the HTTP transport's requests, and carries on at the same offset", async () => {
        const topic = topicName("sse-renew");
        await broker().createTopic(topic);
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}`, ttl: 600 }));
        // The transport's first request is sent with a token the broker refuses (not the SDK's topic lookup).
        let spoiled = 0;
        const c = client(broker().url, {
          ...sse,
          token: source,
          fetch: (input, init) => {
            const headers = new Headers(init?.headers);
            if (!String(input).includes("create=true") && spoiled++ === 0)
              headers.set("authorization", "Bearer not.a.token");
            return fetch(input, { ...init, headers });
          },
        });
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        await broker().api(`/v1/topics/${topic}/records`, {
          method: "POST",
          body: JSON.stringify({ records: [{ value: 1 }, { value: 2 }] }),
        });
        expect((await take(sub, 2)).map((r) => [r.offset, r.value])).toEqual([
          [0, 1],
          [1, 2],
        ]);
        expect(spoiled).toBeGreaterThan(1);
        // The refusal asked the token function again (its token was not the one refused, but the
        // SDK cannot know that); then the subscription went on.
        expect(calls).toHaveLength(2);
      });

      it("ends a subscription refused at the transport's first request (a token that may only create) with FORBIDDEN", async () => {
        const topic = topicName("sse-create-only");
        await broker().createTopic(topic);
        const c = client(broker().url, { ...sse, token: await mint({ scope: `create:${topic}` }) });
        const error = await c.subscribe(topic, { from: "earliest" }).closed;
        expect(error).toMatchObject({ code: "FORBIDDEN", retriable: false });
        expect(c.status).toMatchObject({ state: "closed", error: { code: "FORBIDDEN" } });
      });

      it("reports FORBIDDEN for a produce and a subscribe without the right, and stores nothing", async () => {
        const topic = topicName("sse-forbidden");
        await broker().createTopic(topic);
        const c = client(broker().url, {
          ...sse,
          token: await mint({ scope: `subscribe:${topic}` }),
        });
        await expect(c.produce(topic, [{ value: 1 }])).rejects.toMatchObject({
          code: "FORBIDDEN",
          retriable: false,
        });
        const other = client(broker().url, {
          ...sse,
          token: await mint({ scope: `produce:${topic}` }),
        });
        const error = await other.subscribe(topic, { from: "earliest" }).closed;
        expect(error).toMatchObject({ code: "FORBIDDEN", retriable: false });
        expect(await broker().readAll(topic, 0)).toEqual([]);
      });
    });
  });
}
