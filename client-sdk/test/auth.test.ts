/**
 * Tokens on one partition's socket (PROTOCOL.md §15.3, §15.4), under fake timers: asked for
 * at connect, refreshed in-band before `exp`, renewed once after a 401, never retried after
 * a refusal a new token cannot mend. The real broker's side is in auth-broker.test.ts.
 */
import { decodeFrame, encodeFrame, FrameType } from "@kaiten/protocol";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { authFrame as authArbitrary } from "../../protocol/test/support/arbitraries.ts";
import { tokens } from "../src/auth.ts";
import { Link, type LinkUser } from "../src/link.ts";
import { authFrame, expiryOf, renewing } from "../src/renew.ts";
import { FakeSocket } from "./support/fake-socket.ts";

/** An unsigned JWT-shaped token expiring `ttlS` seconds from now (the SDK never verifies). */
const jwt = (ttlS: number, n = 0) =>
  `eyJhbGciOiJIUzI1NiJ9.${btoa(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + ttlS, n }))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_")}.sig`;

function setup(source: () => string | Promise<string>) {
  const link = new Link(
    "ws://broker/v1/topics/t/partitions/0/ws",
    {
      WebSocket: FakeSocket,
      // No pings: the fake socket would not answer them.
      pingIntervalMs: 1e8,
      pongTimeoutMs: 5_000,
      openTimeoutMs: 1e8,
      minDelayMs: 500,
      maxDelayMs: 15_000,
      random: () => 0.5,
      tokens: renewing(source),
      lost: () => {},
    },
    () => {},
  );
  const user: LinkUser & { opens: number; drops: Array<[string, boolean]> } = {
    opens: 0,
    drops: [],
    opened() {
      this.opens++;
    },
    frame: () => true,
    dropped(e, fatal) {
      this.drops.push([e.code, fatal]);
    },
  };
  link.users.add(user);
  link.connect();
  return { link, user };
}

const tokenOf = (s: FakeSocket) => new URL(s.url).searchParams.get("token");

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe("tokens", () => {
  it("gives a fixed token as it is, and loads the refresh code (renew.ts) only for a token function", async () => {
    expect(tokens("t")).toEqual({ renews: false, get: expect.any(Function) });
    expect(tokens("t").get()).toBe("t");
    expect(tokens(undefined).get()).toBeUndefined();
    vi.useRealTimers();
    let n = 0;
    const fn = tokens(() => `t${n++}`);
    expect(fn.renews).toBe(true);
    expect(await fn.get()).toBe("t0");
    expect(await fn.get()).toBe("t0");
    expect(await fn.get("t0")).toBe("t1");
  });

  it("writes AUTH exactly as the protocol's encodeFrame, with the request id the client never uses (§15.4)", () => {
    fc.assert(
      fc.property(authArbitrary, (f) => {
        const frame = { ...f, requestId: 0xffff_ffff };
        expect(authFrame(f.token)).toEqual(encodeFrame(frame));
        expect(decodeFrame(authFrame(f.token))).toEqual(frame);
      }),
    );
  });

  it("reads exp from a token without verifying it, and 0 from what is no JWT", () => {
    vi.setSystemTime(1_000_000_000_000);
    expect(expiryOf(jwt(60))).toBe(1_000_000_060_000);
    for (const bad of ["", "garbage", "a.b.c", "a.e30.c"]) expect(expiryOf(bad)).toBe(0);
  });

  it("asks the function at connect and sends the token on the socket", async () => {
    const source = vi.fn(() => jwt(300));
    setup(source);
    await vi.advanceTimersByTimeAsync(0);
    expect(source.mock.calls).toHaveLength(1);
    expect(tokenOf(FakeSocket.last)).toBe(source.mock.results[0]?.value);
  });

  it("refreshes in-band a tenth of the token's life before exp, without a new socket, and again after AUTHED", async () => {
    let n = 0;
    const source = vi.fn(() => jwt(100, n++));
    setup(source);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    await vi.advanceTimersByTimeAsync(89_000);
    expect(FakeSocket.last.frames()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(source.mock.calls).toHaveLength(2);
    expect(FakeSocket.last.frames()).toEqual([
      { type: FrameType.Auth, requestId: 0xffff_ffff, token: source.mock.results[1]?.value },
    ]);
    FakeSocket.last.receive({ type: FrameType.Authed, requestId: 0xffff_ffff, expiresAt: 1 });
    await vi.advanceTimersByTimeAsync(91_000);
    expect(source.mock.calls).toHaveLength(3);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("on close 4027 (token expired) asks for a new token and reconnects at once", async () => {
    let n = 0;
    const source = vi.fn(() => jwt(300, n++));
    const { user } = setup(source);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.drop(4027, "TOKEN_EXPIRED");
    await vi.advanceTimersByTimeAsync(0);
    expect(user.drops).toEqual([["TOKEN_EXPIRED", false]]);
    expect(source.mock.calls).toHaveLength(2);
    expect(FakeSocket.all).toHaveLength(2);
    expect(tokenOf(FakeSocket.last)).toBe(source.mock.results[1]?.value);
  });

  it("after a 401 asks once more, and gives up when the new token is refused too (§15.3)", async () => {
    const source = vi.fn(() => "garbage");
    const { link, user } = setup(source);
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.drop(4025, "UNAUTHENTICATED");
    await vi.advanceTimersByTimeAsync(0);
    FakeSocket.last.open();
    FakeSocket.last.drop(4025, "UNAUTHENTICATED");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(source.mock.calls).toHaveLength(2);
    expect(FakeSocket.all).toHaveLength(2);
    expect(user.drops).toEqual([
      ["UNAUTHENTICATED", false],
      ["UNAUTHENTICATED", true],
    ]);
    expect(link.status).toMatchObject({ state: "closed", error: { code: "UNAUTHENTICATED" } });
  });

  it("does not retry FORBIDDEN, LIMIT_EXCEEDED or AUTH_NOT_CONFIGURED, and asks for no new token", async () => {
    for (const [code, name] of [
      [4026, "FORBIDDEN"],
      [4029, "LIMIT_EXCEEDED"],
      [4028, "AUTH_NOT_CONFIGURED"],
    ] as const) {
      FakeSocket.all = [];
      const source = vi.fn(() => jwt(300));
      const { link, user } = setup(source);
      await vi.advanceTimersByTimeAsync(0);
      FakeSocket.last.open();
      FakeSocket.last.drop(code, name);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(source.mock.calls).toHaveLength(1);
      expect(FakeSocket.all).toHaveLength(1);
      expect(user.drops).toEqual([[name, true]]);
      expect(link.status.state).toBe("closed");
    }
  });
});
