/**
 * The auth matrix over HTTP (docs/PROTOCOL.md §15): every way a request can be refused gets
 * its documented status and code, and afterwards the stored records and the topic list are
 * exactly what the accepted requests made.
 */
import { exportSPKI } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, type TestKeys, testKeys, unsigned } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { call, type ErrorBody, postJson, readPartition } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys: TestKeys = await testKeys();

export function authHttpSuite(host: HostUnderTest): void {
  describe(`auth over HTTP on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys)));
    const url = () => broker().url;

    let admin: string;
    const produced: Array<{ topic: string; value: unknown }> = [];

    beforeAll(async () => {
      admin = await mint({ scope: "admin" });
      for (const name of ["orders", "prices", "clicks"]) {
        const r = await postJson(`${url()}/v1/topics`, { name }, bearer(admin));
        expect(r.status).toBe(201);
      }
    });

    async function produceAs(token: string | null, topic: string, value: unknown) {
      const r = await postJson<ErrorBody>(
        `${url()}/v1/topics/${topic}/records`,
        { records: [{ value }] },
        token === null ? {} : bearer(token),
      );
      if (r.status === 200) produced.push({ topic, value });
      return r;
    }

    function expectRefused(r: { status: number; body: unknown }, status: number, code: string) {
      expect(r.status).toBe(status);
      expect((r.body as ErrorBody).error.code).toBe(code);
    }

    describe("§15.1 tokens: what is refused with 401", () => {
      const cases: Array<[string, () => Promise<string | null>, string]> = [
        ["no token", async () => null, "UNAUTHENTICATED"],
        ["garbage", async () => "not-a-jwt", "UNAUTHENTICATED"],
        [
          "a wrong secret",
          () => mint({ scope: "admin", secret: "another-secret-of-enough-length" }),
          "UNAUTHENTICATED",
        ],
        ["alg: none", async () => unsigned("admin"), "UNAUTHENTICATED"],
        ["an expired token", () => mint({ scope: "admin", ttl: -120 }), "TOKEN_EXPIRED"],
        [
          "a token not yet valid",
          () => mint({ scope: "admin", notBefore: 120 }),
          "UNAUTHENTICATED",
        ],
        ["a token without exp", () => mint({ scope: "admin", ttl: null }), "UNAUTHENTICATED"],
        [
          "a wrong issuer",
          () => mint({ scope: "admin", issuer: "https://evil.example/" }),
          "UNAUTHENTICATED",
        ],
        [
          "a wrong audience",
          () => mint({ scope: "admin", audience: "someone-else" }),
          "UNAUTHENTICATED",
        ],
        [
          "HS256 keyed with the public key",
          async () =>
            mint({ scope: "admin", secret: await exportSPKI(keys.pairs.RS256.publicKey) }),
          "UNAUTHENTICATED",
        ],
        [
          "HS256 keyed with the public JWKS text",
          async () => mint({ scope: "admin", secret: keys.jwks }),
          "UNAUTHENTICATED",
        ],
      ];

      it.each(cases)("refuses %s, to produce, read, list and delete", async (_, token, code) => {
        const t = await token();
        const auth = t === null ? {} : bearer(t);
        expectRefused(await produceAs(t, "orders", "refused"), 401, code);
        expectRefused(
          await call(`${url()}/v1/topics/orders/partitions/0/records`, { headers: auth }),
          401,
          code,
        );
        expectRefused(await call(`${url()}/v1/topics`, { headers: auth }), 401, code);
        expectRefused(
          await call(`${url()}/v1/topics/orders`, { method: "DELETE", headers: auth }),
          401,
          code,
        );
      });

      it("refuses an Authorization header that is not Bearer", async () => {
        const r = await call(`${url()}/v1/topics`, {
          headers: { authorization: `Basic ${btoa("a:b")}` },
        });
        expectRefused(r, 401, "UNAUTHENTICATED");
      });

      it.each(["ES256", "RS256", "EdDSA"] as const)(
        "accepts a %s token from the JWKS, chosen by kid",
        async (alg) => {
          const token = await mint({ scope: "produce:orders", alg, keys });
          expect((await produceAs(token, "orders", `by ${alg}`)).status).toBe(200);
        },
      );

      it("refuses a JWKS token whose kid names another algorithm's key", async () => {
        const token = await mint({ scope: "admin", alg: "ES256", keys });
        const [, payload, signature] = token.split(".");
        const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: "kid-RS256" })).toString(
          "base64url",
        );
        expectRefused(
          await produceAs(`${header}.${payload}.${signature}`, "orders", "x"),
          401,
          "UNAUTHENTICATED",
        );
      });
    });

    describe("§15.2 rights: what is refused with 403", () => {
      it("refuses a right for another topic", async () => {
        const token = await mint({ scope: "produce:prices subscribe:prices" });
        expectRefused(await produceAs(token, "orders", "wrong topic"), 403, "FORBIDDEN");
      });

      it("refuses a produce-only token reading", async () => {
        const token = await mint({ scope: "produce:orders" });
        const r = await call(`${url()}/v1/topics/orders/partitions/0/records`, {
          headers: bearer(token),
        });
        expectRefused(r, 403, "FORBIDDEN");
      });

      it("refuses a subscribe-only token producing, and lets it read", async () => {
        const token = await mint({ scope: "subscribe:ord*" });
        expectRefused(await produceAs(token, "orders", "not allowed"), 403, "FORBIDDEN");
        const r = await call(`${url()}/v1/topics/orders/partitions/0/records`, {
          headers: bearer(token),
        });
        expect(r.status).toBe(200);
      });

      it("refuses topic create and delete without admin, even with every other right", async () => {
        const token = await mint({ scope: "produce:* subscribe:* create:*" });
        const create = await postJson(
          `${url()}/v1/topics`,
          { name: "made-by-user" },
          bearer(token),
        );
        expectRefused(create, 403, "FORBIDDEN");
        const del = await call(`${url()}/v1/topics/orders`, {
          method: "DELETE",
          headers: bearer(token),
        });
        expectRefused(del, 403, "FORBIDDEN");
      });

      it("never lets produce:* create a topic (auto-create needs create: or admin)", async () => {
        const token = await mint({ scope: "produce:*" });
        expectRefused(await produceAs(token, "spam-1", "x"), 404, "UNKNOWN_TOPIC");
        const meta = await call(`${url()}/v1/topics/spam-2?create=true`, {
          headers: bearer(token),
        });
        expectRefused(meta, 404, "UNKNOWN_TOPIC");
      });

      it("lets create:<pattern> auto-create matching topics on produce", async () => {
        const token = await mint({ scope: "produce:events.* create:events.*" });
        expect((await produceAs(token, "events.signup", "hello")).status).toBe(200);
        expectRefused(await produceAs(token, "other", "x"), 403, "FORBIDDEN");
      });

      it("lists only the topics a token's rights name", async () => {
        const token = await mint({ scope: "subscribe:prices produce:clicks" });
        const r = await call<{ topics: Array<{ name: string }> }>(`${url()}/v1/topics`, {
          headers: bearer(token),
        });
        expect(r.body.topics.map((t) => t.name).sort()).toEqual(["clicks", "prices"]);
      });

      it("describes the signed-in principal at GET /v1/auth", async () => {
        const token = await mint({ scope: "subscribe:prices produce:clicks", subject: "ana" });
        const r = await call<Record<string, unknown>>(`${url()}/v1/auth`, {
          headers: bearer(token),
        });
        expect(r.body).toMatchObject({ mode: "jwt", subject: "ana", admin: false });
        expect(r.body.scope).toBe("produce:clicks subscribe:prices");
      });

      it("answers GET /v1 without a token, saying auth is on", async () => {
        const r = await call<Record<string, unknown>>(`${url()}/v1`);
        expect(r.status).toBe(200);
        expect(r.body.auth).toBe("jwt");
      });
    });

    describe("afterwards", () => {
      it("holds exactly the records and topics that accepted requests made", async () => {
        const topics = await call<{ topics: Array<{ name: string }> }>(`${url()}/v1/topics`, {
          headers: bearer(admin),
        });
        expect(topics.body.topics.map((t) => t.name).sort()).toEqual(
          ["clicks", "events.signup", "orders", "prices"].sort(),
        );
        for (const topic of ["orders", "prices", "clicks", "events.signup"]) {
          const stored = await readAll(topic);
          expect(stored, topic).toEqual(
            produced.filter((p) => p.topic === topic).map((p) => p.value),
          );
        }
      });
    });

    async function readAll(topic: string): Promise<unknown[]> {
      return (await readPartition(url(), topic, 0, 0, bearer(admin))).records.map((r) => r.value);
    }
  });
}
