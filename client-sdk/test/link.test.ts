/** Reconnect and heartbeat logic of one partition's socket, under fake timers. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Status } from "../src/events.ts";
import { backoffDelay, Link, type LinkOptions, type LinkUser } from "../src/link.ts";
import { FakeSocket } from "./support/fake-socket.ts";

const options = (random = () => 0.5): LinkOptions => ({
  WebSocket: FakeSocket,
  pingIntervalMs: 15_000,
  pongTimeoutMs: 5_000,
  openTimeoutMs: 5_000,
  minDelayMs: 500,
  maxDelayMs: 15_000,
  random,
  lost: () => {},
});

function setup(random?: () => number) {
  const statuses: Status[] = [];
  const link = new Link("ws://broker/v1/topics/t/partitions/0/ws", options(random), (l) =>
    statuses.push(l.status),
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
  return { link, user, statuses };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeSocket.all = [];
});
afterEach(() => {
  vi.useRealTimers();
});

describe("backoff", () => {
  it("draws each delay at random below a cap that doubles per attempt up to the maximum (full jitter)", () => {
    const o = options(() => 0.999_999);
    expect([0, 1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, o))).toEqual([
      499, 999, 1999, 3999, 7999, 14_999, 14_999,
    ]);
    expect(
      backoffDelay(
        3,
        options(() => 0),
      ),
    ).toBe(0);
    expect(
      backoffDelay(
        3,
        options(() => 0.25),
      ),
    ).toBe(1000);
  });

  it("reconnects after each drop, waiting longer as attempts fail, and reports attempt and delay", () => {
    const { statuses } = setup();
    expect(FakeSocket.all).toHaveLength(1);
    FakeSocket.last.drop();
    expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", attempt: 1, delayMs: 250 });
    vi.advanceTimersByTime(249);
    expect(FakeSocket.all).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    FakeSocket.last.drop();
    expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", attempt: 2, delayMs: 500 });
    vi.advanceTimersByTime(500);
    FakeSocket.last.drop();
    expect(statuses.at(-1)).toMatchObject({ attempt: 3, delayMs: 1000 });
  });

  it("starts the backoff over once a socket answered, not merely opened", () => {
    const { statuses } = setup();
    for (let i = 0; i < 3; i++) {
      FakeSocket.last.drop();
      vi.runOnlyPendingTimers();
    }
    FakeSocket.last.open();
    FakeSocket.last.drop(4021, "TOO_MANY_SUBSCRIBERS");
    expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", attempt: 4 });
    vi.runOnlyPendingTimers();
    FakeSocket.last.open();
    FakeSocket.last.receive("pong");
    FakeSocket.last.receive({
      type: 0x82,
      requestId: 1,
      epoch: 1,
      startOffset: 0,
      earliestOffset: 0,
      highWatermark: 0,
    });
    FakeSocket.last.drop();
    expect(statuses.at(-1)).toMatchObject({ state: "reconnecting", attempt: 1 });
  });

  it("never has two sockets at once, and tells its users on every drop and open", () => {
    const { user } = setup();
    for (let i = 0; i < 5; i++) {
      FakeSocket.last.open();
      expect(FakeSocket.live).toHaveLength(1);
      FakeSocket.last.drop();
      expect(FakeSocket.live).toHaveLength(0);
      vi.runOnlyPendingTimers();
    }
    expect(user.opens).toBe(5);
    expect(user.drops).toEqual(Array(5).fill(["CONNECTION_LOST", false]));
  });

  it("retries at once when the page wakes (online, visible, pageshow) instead of waiting out the delay", () => {
    const { link } = setup(() => 0.999);
    FakeSocket.last.drop();
    expect(FakeSocket.all).toHaveLength(1);
    link.wake();
    expect(FakeSocket.all).toHaveLength(2);
    // Less than the second socket's open timeout (twice 5 s): only the delay could have fired.
    vi.advanceTimersByTime(9_000);
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("stops for good on a close code carrying a non-retriable error (4022: topic deleted)", () => {
    const { user, statuses } = setup();
    FakeSocket.last.open();
    FakeSocket.last.drop(4022, "TOPIC_DELETED");
    expect(user.drops).toEqual([["TOPIC_DELETED", true]]);
    expect(statuses.at(-1)).toMatchObject({
      state: "closed",
      error: { code: "TOPIC_DELETED", retriable: false },
    });
    vi.advanceTimersByTime(60_000);
    expect(FakeSocket.all).toHaveLength(1);
  });
});

describe("open timeout", () => {
  it("drops a socket whose handshake is never answered, as one closed before opening, and allows more time on each attempt in a row", () => {
    const lost: boolean[] = [];
    const statuses: Status[] = [];
    const link = new Link(
      "ws://broker/v1/topics/t/partitions/0/ws",
      { ...options(() => 0), lost: (l) => lost.push(l.isOpen) },
      (l) => statuses.push(l.status),
    );
    link.connect();
    vi.advanceTimersByTime(4_999);
    expect(FakeSocket.live).toHaveLength(1);
    vi.advanceTimersByTime(1);
    // Told as a close before opening (what "auto" counts), then retried at once (random 0).
    expect(lost).toEqual([false]);
    expect(statuses.at(-1)).toMatchObject({
      state: "reconnecting",
      attempt: 1,
      error: { code: "CONNECTION_LOST", message: "not open in time" },
    });
    expect(FakeSocket.all[0]?.closed).toBe(true);
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(2);
    vi.advanceTimersByTime(9_999);
    expect(lost).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(lost).toEqual([false, false]);
    // One that opens in time is kept, and its timer does not fire later.
    vi.advanceTimersByTime(1);
    expect(FakeSocket.all).toHaveLength(3);
    FakeSocket.last.open();
    FakeSocket.last.receive("pong");
    vi.advanceTimersByTime(14_000);
    expect(statuses.at(-1)?.state).toBe("open");
    expect(lost).toHaveLength(2);
    link.close();
  });
});

describe("heartbeat", () => {
  it("pings every interval and drops a socket that does not answer within the timeout", () => {
    const { statuses } = setup();
    FakeSocket.last.open();
    vi.advanceTimersByTime(15_000);
    expect(FakeSocket.last.sent).toEqual(["ping"]);
    vi.advanceTimersByTime(4_999);
    expect(statuses.at(-1)?.state).toBe("open");
    vi.advanceTimersByTime(1);
    expect(statuses.at(-1)).toMatchObject({
      state: "reconnecting",
      error: { code: "CONNECTION_LOST" },
    });
    expect(FakeSocket.live).toHaveLength(0);
  });

  it("keeps a socket that answers, and checks at once when the page wakes", () => {
    const { link, statuses } = setup();
    const ws = FakeSocket.last;
    ws.open();
    for (let i = 0; i < 3; i++) {
      vi.advanceTimersByTime(15_000);
      ws.receive("pong");
    }
    vi.advanceTimersByTime(4_000);
    expect(statuses.at(-1)?.state).toBe("open");
    link.wake();
    expect(ws.sent).toHaveLength(4);
    vi.advanceTimersByTime(5_000);
    expect(statuses.at(-1)?.state).toBe("reconnecting");
  });
});
