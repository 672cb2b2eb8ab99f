/**
 * Rights over WebSocket on the Node host (docs/PROTOCOL.md §15.3, §15.4), from the same core
 * rules as the Cloudflare host (test/e2e/auth-websocket.test.ts): refusals at the upgrade as
 * an ERROR frame and close 4000 + code, rights per frame, auto-create only with the create
 * right, a socket closed with 4027 when its token expires, and one refreshed in time carrying on.
 */
import { ErrorCode, StartFrom } from "@kaiten/protocol";
import { describe, expect, it } from "vitest";
import { AUDIENCE, ISSUER, mint, SECRET } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, type ProtocolError } from "../lib/client.ts";

const broker = useBroker({
  host: "node",
  vars: {
    KAITEN_AUTH: "jwt",
    KAITEN_JWT_SECRET: SECRET,
    KAITEN_JWT_ISSUER: ISSUER,
    KAITEN_JWT_AUDIENCE: AUDIENCE,
  },
});

const open = (topic: string, token: string | null) =>
  Connection.open(broker().url, topic, 0, token === null ? {} : { query: { token } });

async function refusedWith(topic: string, token: string | null): Promise<number> {
  const c = await open(topic, token);
  const { code } = await c.closed;
  expect(c.unsolicitedErrors[0]?.code).toBe(
    { 4025: "UNAUTHENTICATED", 4026: "FORBIDDEN", 4027: "TOKEN_EXPIRED" }[code],
  );
  return code;
}

describe("Node host: rights over WebSocket", () => {
  it("is closed by default: no token is refused with 4025, a bad one too, an expired one with 4027", async () => {
    expect(await refusedWith("feed", null)).toBe(4025);
    expect(await refusedWith("feed", "garbage")).toBe(4025);
    expect(await refusedWith("feed", await mint({ scope: "admin", ttl: -120 }))).toBe(4027);
  });

  it("creates a topic on first use only for a token with the create right", async () => {
    const refused = await open("fresh", await mint({ scope: "produce:fresh" }));
    expect((await refused.closed).code).toBe(4000 + ErrorCode.UNKNOWN_TOPIC);
    const c = await open("fresh", await mint({ scope: "produce:fresh create:fresh" }));
    expect((await c.produce([jsonRecord(1)])).baseOffset).toBe(0);
    await c.close();
  });

  it("refuses SUBSCRIBE on a produce-only socket, which keeps producing", async () => {
    const c = await open("feed", await mint({ scope: "produce:feed create:feed" }));
    const e = (await c.subscribe({ from: StartFrom.Earliest }).catch((x) => x)) as ProtocolError;
    expect(e.frame.code).toBe("FORBIDDEN");
    expect((await c.produce([jsonRecord("still")])).count).toBe(1);
    await c.close();
  });

  it("closes a socket with 4027 when its token expires, and a refreshed one carries on", async () => {
    // Expired 26 s ago: still accepted within the 30 s clock leeway, so it ends in about 4 s.
    const short = await mint({ scope: "admin", ttl: -26 });
    const expiring = await open("feed", short);
    const refreshed = await open("feed", short);
    const authed = await refreshed.auth(await mint({ scope: "admin", ttl: 300 }));
    expect(authed.expiresAt).toBeGreaterThan(Date.now() + 200_000);
    expect((await expiring.closed).code).toBe(4027);
    expect(expiring.unsolicitedErrors[0]?.code).toBe("TOKEN_EXPIRED");
    expect((await refreshed.produce([jsonRecord("after")])).count).toBe(1);
    await refreshed.close();
  });
});
