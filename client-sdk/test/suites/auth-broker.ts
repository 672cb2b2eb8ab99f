/**
 * Tokens against a real broker that checks them (KAITEN_AUTH "jwt", PROTOCOL.md §15): the
 * token function is called at connect and again before expiry, and sockets keep delivering
 * across refreshes; a refused token is renewed once, then the SDK gives up; FORBIDDEN is
 * never retried.
 * Run against every host (auth-broker.test.ts: wrangler dev; auth-broker-node.test.ts: the Node host).
 */
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import { jwtArgs, mint, testKeys } from "../../../test/lib/auth.ts";
import type * as Sdk from "../../src/index.ts";
import type { Status } from "../../src/index.ts";
import type { SdkHost } from "../support/hosts.ts";
import { client, take, topicName, useBroker } from "../support/setup.ts";

// Made once as the test file loads: the broker's settings (read in beforeAll) need the keys.
const keys = await testKeys();
const admin = await mint({ scope: "admin", ttl: 3_600 });

export function authBrokerSuite(host: SdkHost): void {
  describe(`tokens on ${host.name}`, () => {
    const broker = useBroker(
      () => ({
        args: jwtArgs(keys),
        headers: { authorization: `Bearer ${admin}` },
      }),
      host,
    );

    /** A token function that counts its calls. */
    function counted(make: () => Promise<string>) {
      const calls: string[] = [];
      const source = async () => {
        const token = await make();
        calls.push(token);
        return token;
      };
      return { source, calls };
    }

    /**
     * Produces one record every 50 ms until `stop()` is true, then `extra` more; returns the
     * values sent. Records go through a second client with an admin token.
     */
    async function produceUntil(topic: string, stop: () => boolean, extra = 5): Promise<number[]> {
      const producer = client(broker().url, { token: admin });
      const sent: number[] = [];
      for (let i = 0, left = extra; left > 0; i++) {
        await producer.produce(topic, [{ value: i }]);
        sent.push(i);
        if (stop()) left--;
        await new Promise((r) => setTimeout(r, 50));
      }
      return sent;
    }

    describe("tokens from a function (§15.4)", () => {
      it("refreshes in-band with the built bundle too (dist/renew.js, loaded on demand, renamed as dist/index.js)", async () => {
        // A path in a variable: the typechecker must not look for the bundle, which may not be built yet.
        const bundle = "../../dist/index.js";
        const { createClient } = (await import(bundle)) as typeof Sdk;
        const topic = topicName("dist-refresh");
        await broker().createTopic(topic);
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}`, ttl: 5 }));
        const c = createClient({ url: broker().url, WebSocket, token: source });
        try {
          const statuses: Status[] = [];
          c.on("status", (s) => statuses.push(s));
          const sub = c.subscribe<number>(topic, { from: "earliest" });
          await sub.ready();
          const sent = await produceUntil(topic, () => calls.length >= 2);
          expect((await take(sub, sent.length)).map((r) => r.value)).toEqual(sent);
          expect(statuses.map((s) => s.state)).not.toContain("reconnecting");
        } finally {
          await c.close();
        }
      });

      it("asks for a token at connect and again before it expires, and the subscription gets every record on one socket", async () => {
        const topic = topicName("refresh");
        await broker().createTopic(topic);
        // 8 s of life: refreshed 3 s before exp, so twice within 12 s.
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}`, ttl: 8 }));
        const c = client(broker().url, { token: source });
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        expect(calls).toHaveLength(1);
        const sent = await produceUntil(topic, () => calls.length >= 3);
        const got = await take(sub, sent.length);
        expect(got.map((r) => r.value)).toEqual(sent);
        expect(got.map((r) => r.offset)).toEqual(sent.map((_, i) => i));
        // One socket throughout: the refreshes went in-band, never through a reconnect.
        expect(statuses.map((s) => s.state)).not.toContain("reconnecting");
      });

      it("keeps a socket past the broker-side expiry of its first token, because each refresh was accepted (AUTHED)", async () => {
        const topic = topicName("accepted");
        await broker().createTopic(topic);
        // exp 22 s ago: the broker's 30 s leeway leaves each token 8 s, and the SDK, seeing exp
        // passed, refreshes at its shortest spacing (1 s). Without accepted refreshes the broker
        // would close the socket with 4027 once the first token's 8 s are out.
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}`, ttl: -22 }));
        const firstExpiry = Date.now() + 8_000;
        const c = client(broker().url, { token: source });
        const statuses: Status[] = [];
        c.on("status", (s) => statuses.push(s));
        const sub = c.subscribe<number>(topic, { from: "earliest" });
        await sub.ready();
        const sent = await produceUntil(topic, () => Date.now() > firstExpiry + 3_000);
        const got = await take(sub, sent.length);
        expect(got.map((r) => r.value)).toEqual(sent);
        expect(calls.length).toBeGreaterThan(2);
        expect(statuses.map((s) => s.state)).not.toContain("reconnecting");
      });
    });

    describe("refusals", () => {
      it("asks once more after a 401 and then gives up with UNAUTHENTICATED (§15.3)", async () => {
        const topic = topicName("unauth");
        await broker().createTopic(topic);
        const { source, calls } = counted(() =>
          mint({ scope: `subscribe:${topic}`, secret: "not-the-broker-secret-0123456789abcdef" }),
        );
        const sub = client(broker().url, { token: source }).subscribe(topic, { from: "earliest" });
        const error = await sub.closed;
        expect(error).toMatchObject({ code: "UNAUTHENTICATED", retriable: false });
        expect(calls).toHaveLength(2);
      });

      it("reports FORBIDDEN as non-retriable, for a subscribe without the right and a produce without it, asking for no new token", async () => {
        const topic = topicName("forbidden");
        await broker().createTopic(topic);
        const { source, calls } = counted(() => mint({ scope: `subscribe:${topic}` }));
        const c = client(broker().url, { token: source });
        await expect(c.produce(topic, [{ value: 1 }])).rejects.toMatchObject({
          code: "FORBIDDEN",
          retriable: false,
        });
        const other = client(broker().url, {
          token: await mint({ scope: "subscribe:elsewhere-*" }),
        });
        const error = await other.subscribe(topic, { from: "earliest" }).closed;
        expect(error).toMatchObject({ code: "FORBIDDEN", retriable: false });
        expect(calls).toHaveLength(1);
        // Nothing was stored by the refused produce.
        expect(await broker().readAll(topic, 0)).toEqual([]);
      });

      it("ends a subscription whose socket is refused at the upgrade (close 4026) and shows the error in client.status", async () => {
        const topic = topicName("upgrade");
        await broker().createTopic(topic);
        // `create` lets the SDK describe the topic over HTTP, but gives its socket nothing to do.
        const { source, calls } = counted(() => mint({ scope: `create:${topic}` }));
        const c = client(broker().url, { token: source });
        const error = await c.subscribe(topic, { from: "earliest" }).closed;
        expect(error).toMatchObject({ code: "FORBIDDEN", retriable: false });
        expect(c.status).toMatchObject({ state: "closed", error: { code: "FORBIDDEN" } });
        expect(calls).toHaveLength(1);
      });

      it("sends the token as Authorization: Bearer on its HTTP calls", async () => {
        const topic = topicName("bearer");
        await broker().createTopic(topic);
        const token = await mint({ scope: `produce:${topic} subscribe:${topic}` });
        const seen: Array<string | null> = [];
        const c = client(broker().url, {
          token,
          fetch: (input, init) => {
            seen.push(new Headers(init?.headers).get("authorization"));
            return fetch(input, init);
          },
        });
        const [ack] = await c.produce(topic, [{ value: "ok" }]);
        expect(ack).toEqual({ partition: 0, offset: 0 });
        expect(seen).toEqual([`Bearer ${token}`]);
        expect(await broker().readAll(topic, 0)).toHaveLength(1);
      });
    });
  });
}
