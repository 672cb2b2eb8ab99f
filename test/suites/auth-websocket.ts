/**
 * Rights over WebSocket (docs/PROTOCOL.md §15.3, §15.4): refusals at the upgrade arrive as an
 * ERROR frame and close 4000 + code; rights are checked per frame; a socket whose token
 * expires stops receiving and is closed with 4027; one that refreshes in time carries on
 * with no gap.
 */
import { ErrorCode, StartFrom } from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, type ProtocolError, waitUntil } from "../lib/client.ts";
import { postJson } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys = await testKeys();

export function authWebsocketSuite(host: HostUnderTest): void {
  describe(`auth over WebSocket on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys)));
    const url = () => broker().url;

    beforeAll(async () => {
      const admin = await mint({ scope: "admin" });
      for (const name of ["feed", "other", "expiring", "refreshed"])
        expect((await postJson(`${url()}/v1/topics`, { name }, bearer(admin))).status).toBe(201);
    });

    const open = async (topic: string, token: string | null, how: "query" | "header" = "query") =>
      Connection.open(
        url(),
        topic,
        0,
        token === null ? {} : how === "query" ? { query: { token } } : { headers: bearer(token) },
      );

    async function refusedWith(topic: string, token: string | null): Promise<number> {
      const c = await open(topic, token);
      const { code } = await c.closed;
      expect(c.unsolicitedErrors[0]?.code).toBe(
        { 4025: "UNAUTHENTICATED", 4026: "FORBIDDEN", 4027: "TOKEN_EXPIRED" }[code],
      );
      return code;
    }

    describe("§15.3 at the upgrade", () => {
      it("refuses no token with 4025", async () => {
        expect(await refusedWith("feed", null)).toBe(4025);
      });

      it("refuses a bad token with 4025 and an expired one with 4027", async () => {
        expect(await refusedWith("feed", "garbage")).toBe(4025);
        expect(await refusedWith("feed", await mint({ scope: "admin", ttl: -120 }))).toBe(4027);
      });

      it("refuses a token with no right on the topic with 4026", async () => {
        expect(
          await refusedWith("feed", await mint({ scope: "produce:other subscribe:other" })),
        ).toBe(4026);
      });

      it("creates a topic on first use only for a token with the create right (§15.2)", async () => {
        const refused = await open("fresh", await mint({ scope: "produce:fresh" }));
        expect((await refused.closed).code).toBe(4000 + ErrorCode.UNKNOWN_TOPIC);
        const c = await open("fresh", await mint({ scope: "produce:fresh create:fresh" }));
        expect((await c.produce([jsonRecord(1)])).baseOffset).toBe(0);
        await c.close();
      });

      it("accepts the token in the Authorization header too", async () => {
        const c = await open("feed", await mint({ scope: "produce:feed" }), "header");
        expect((await c.produce([jsonRecord("by header")])).count).toBe(1);
        await c.close();
      });
    });

    describe("§15.3 per frame", () => {
      it("refuses SUBSCRIBE on a produce-only socket, and the socket keeps producing", async () => {
        const c = await open("feed", await mint({ scope: "produce:feed" }));
        const refused = await c.subscribe({ from: StartFrom.Earliest }).catch((e) => e);
        expect((refused as ProtocolError).frame.code).toBe("FORBIDDEN");
        expect((await c.produce([jsonRecord("still producing")])).count).toBe(1);
        await c.close();
      });

      it("refuses PRODUCE on a subscribe-only socket, and stores nothing", async () => {
        const c = await open("feed", await mint({ scope: "subscribe:feed" }));
        const sub = await c.subscribe({ from: StartFrom.Latest });
        const before = sub.subscribed.highWatermark;
        const refused = await c.produce([jsonRecord("nope")]).catch((e) => e);
        expect((refused as ProtocolError).frame.code).toBe("FORBIDDEN");
        const check = await open("feed", await mint({ scope: "subscribe:feed" }));
        expect((await check.subscribe({ from: StartFrom.Latest })).subscribed.highWatermark).toBe(
          before,
        );
        await Promise.all([c.close(), check.close()]);
      });
    });

    describe("§15.4 expiry and refresh", () => {
      // exp 26 s in the past is still inside the broker's 30 s leeway: the rights end in ~4 s.
      const shortLived = (scope: string) => mint({ scope, ttl: -26 });

      it("stops delivering to a socket whose token expires, and closes it with 4027", async () => {
        const reader = await open("expiring", await shortLived("subscribe:expiring"));
        const sub = await reader.subscribe({ from: StartFrom.Earliest });
        const writer = await open("expiring", await mint({ scope: "produce:expiring" }));
        await writer.produce([jsonRecord("before")]);
        await sub.waitForOffset(1);
        const { code } = await reader.closed;
        expect(code).toBe(4027);
        expect(reader.unsolicitedErrors.map((e) => e.code)).toEqual(["TOKEN_EXPIRED"]);
        await writer.produce([jsonRecord("after")]);
        expect(sub.records.map((r) => r.offset)).toEqual([0]);
        await writer.close();
      });

      it("keeps delivering with no gap to a socket that refreshes before expiry", async () => {
        const reader = await open("refreshed", await shortLived("subscribe:refreshed"));
        const sub = await reader.subscribe({ from: StartFrom.Earliest });
        const writer = await open("refreshed", await mint({ scope: "produce:refreshed" }));
        const authed = await reader.auth(await mint({ scope: "subscribe:refreshed", ttl: 600 }));
        expect(authed.expiresAt).toBeGreaterThan(Date.now() + 500_000);
        for (let i = 0; i < 8; i++) {
          await writer.produce([jsonRecord(i)]);
          await new Promise((r) => setTimeout(r, 1_000));
        }
        await sub.waitForOffset(8);
        expect(sub.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(reader.unsolicitedErrors).toEqual([]);
        await Promise.all([reader.close(), writer.close()]);
      });

      it("refuses a refresh whose rights do not cover the subscription, keeping the old token", async () => {
        const reader = await open("feed", await mint({ scope: "subscribe:feed produce:feed" }));
        await reader.subscribe({ from: StartFrom.Latest });
        const refused = await reader.auth(await mint({ scope: "produce:feed" })).catch((e) => e);
        expect((refused as ProtocolError).frame.code).toBe("FORBIDDEN");
        const bad = await reader.auth("garbage").catch((e) => e);
        expect((bad as ProtocolError).frame.code).toBe("UNAUTHENTICATED");
        expect((await reader.produce([jsonRecord("old token still works")])).count).toBe(1);
        await reader.close();
      });

      it("closes an idle socket at expiry too (the object's alarm)", async () => {
        const idle = await open("other", await shortLived("produce:other"));
        await waitUntil(
          () => false,
          () => "",
          0,
        ).catch(() => {});
        expect((await idle.closed).code).toBe(4027);
      });
    });
  });
}
