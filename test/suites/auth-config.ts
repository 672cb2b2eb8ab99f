/**
 * Closed by default (docs/PROTOCOL.md §15): a broker started from wrangler.toml's own settings
 * serves nobody until a key is configured, and says which secrets to set; and the quotas on
 * what one deployment may be made to hold (§15.6).
 */
import { describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { Connection } from "../lib/client.ts";
import { call, type ErrorBody, postJson } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys = await testKeys();

export function authConfigSuite(host: HostUnderTest): void {
  describe(`auth settings on ${host.name}`, () => {
    describe("a broker started with the shipped settings (wrangler.toml's, or no environment on Node)", () => {
      const broker = useBroker({ ...host.broker, asConfigured: true });

      it("refuses every request under /v1 with AUTH_NOT_CONFIGURED, naming the secrets to set", async () => {
        const url = broker().url;
        const requests: Array<[string, RequestInit]> = [
          ["/v1", {}],
          ["/v1/topics", {}],
          ["/v1/topics", { method: "POST", body: JSON.stringify({ name: "x" }) }],
          [
            "/v1/topics/x/records",
            { method: "POST", body: JSON.stringify({ records: [{ value: 1 }] }) },
          ],
          ["/v1/topics/x/partitions/0/records", {}],
          ["/v1/topics/x", { method: "DELETE" }],
          ["/v1/site-keys", {}],
        ];
        for (const [path, init] of requests) {
          const r = await call<ErrorBody>(`${url}${path}`, init);
          expect([r.status, r.body.error.code], path).toEqual([503, "AUTH_NOT_CONFIGURED"]);
          expect(r.body.error.message).toContain("KAITEN_JWT_SECRET");
          expect(r.body.error.message).toContain("KAITEN_JWT_JWKS");
        }
      });

      it("refuses a WebSocket with close 4028", async () => {
        const c = await Connection.open(broker().url, "x", 0);
        expect((await c.closed).code).toBe(4028);
      });
    });

    describe("§15.6 quotas", () => {
      const broker = useBroker(
        brokerOf(host, jwtVars(keys, { KAITEN_MAX_TOPICS: "3", KAITEN_MAX_PARTITIONS: "8" })),
      );

      it("refuses topics past KAITEN_MAX_PARTITIONS and KAITEN_MAX_TOPICS with LIMIT_EXCEEDED", async () => {
        const url = broker().url;
        const admin = bearer(await mint({ scope: "admin" }));
        const create = (name: string, partitions: number) =>
          postJson<ErrorBody>(`${url}/v1/topics`, { name, partitions }, admin);
        expect((await create("a", 3)).status).toBe(201);
        expect((await create("b", 3)).status).toBe(201);
        const tooManyPartitions = await create("c", 3);
        expect([tooManyPartitions.status, tooManyPartitions.body.error.code]).toEqual([
          403,
          "LIMIT_EXCEEDED",
        ]);
        expect(tooManyPartitions.body.error.message).toContain("KAITEN_MAX_PARTITIONS");
        expect((await create("c", 2)).status).toBe(201);
        const tooManyTopics = await create("d", 1);
        expect([tooManyTopics.status, tooManyTopics.body.error.code]).toEqual([
          403,
          "LIMIT_EXCEEDED",
        ]);
        const creator = bearer(await mint({ scope: "produce:* create:*" }));
        const auto = await postJson<ErrorBody>(
          `${url}/v1/topics/e/records`,
          { records: [{ value: 1 }] },
          creator,
        );
        expect([auto.status, auto.body.error.code]).toEqual([403, "LIMIT_EXCEEDED"]);
        const list = await call<{ topics: Array<{ name: string }> }>(`${url}/v1/topics`, {
          headers: admin,
        });
        expect(list.body.topics.map((t) => t.name)).toEqual(["a", "b", "c"]);
      });
    });
  });
}
