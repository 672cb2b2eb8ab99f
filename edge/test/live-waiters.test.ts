/**
 * The waiters of HTTP live reads (docs/PROTOCOL.md §17.5) and the pure Durable Streams rules
 * (§18): offsets, TTL syntax, JSON flattening, cursors.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CommitWaiters } from "../src/core/commit-waiters.ts";
import {
  formatOffset,
  jsonMessages,
  nextCursor,
  parseOffset,
  parseTtl,
} from "../src/core/durable-stream.ts";

const TIMERS = {
  set: (fn: () => void, ms: number) => setTimeout(fn, ms),
  clear: (h: unknown) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

describe("§17.5 commit waiters", () => {
  it("wakes a waiter once a commit passes its offset, and not before", async () => {
    const w = new CommitWaiters(TIMERS, 10);
    let outcome: string | null = null;
    const waiting = w.wait(5, 5, 30_000).then((o) => {
      outcome = o;
    });
    w.wake(5);
    await Promise.resolve();
    expect(outcome).toBeNull();
    w.wake(6);
    await waiting;
    expect(outcome).toBe("grew");
    expect(w.size).toBe(0);
  });

  it("answers at once when the log already holds the offset", async () => {
    expect(await new CommitWaiters(TIMERS, 1).wait(3, 4, 30_000)).toBe("grew");
  });

  it("ends a wait after its time", async () => {
    expect(await new CommitWaiters(TIMERS, 1).wait(0, 0, 1)).toBe("timeout");
  });

  it("refuses a waiter past the cap with THROTTLED instead of growing", () => {
    const w = new CommitWaiters(TIMERS, 2);
    w.wait(0, 0, 30_000);
    w.wait(0, 0, 30_000);
    expect(() => w.wait(0, 0, 30_000)).toThrow(expect.objectContaining({ code: "THROTTLED" }));
    w.wakeAll();
    expect(w.size).toBe(0);
  });
});

describe("§18.4 offsets", () => {
  it("round-trips every offset and sorts as strings in log order", () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), (a, b) => {
        expect(parseOffset(formatOffset(a))).toBe(a);
        expect(formatOffset(a) < formatOffset(b)).toBe(a < b);
      }),
    );
  });

  it("takes the sentinels and refuses anything else", () => {
    expect(parseOffset(null)).toBe("start");
    expect(parseOffset("-1")).toBe("start");
    expect(parseOffset("now")).toBe("now");
    for (const bad of ["", "1", "0,1", "abc", `${formatOffset(1)} `])
      expect(() => parseOffset(bad)).toThrow();
  });
});

describe("§18 rules", () => {
  it("takes Stream-TTL only as a plain decimal integer", () => {
    expect(parseTtl("3600")).toBe(3600);
    expect(parseTtl("0")).toBe(0);
    for (const bad of ["+1", "01", "1.0", "1e3", "-1", ""]) expect(() => parseTtl(bad)).toThrow();
  });

  it("flattens one level of a JSON array, and refuses an empty one on append", () => {
    expect(jsonMessages('[{"a":1},[2,3]]', false)).toEqual(['{"a":1}', "[2,3]"]);
    expect(jsonMessages('"x"', false)).toEqual(['"x"']);
    expect(jsonMessages("[]", true)).toEqual([]);
    expect(() => jsonMessages("[]", false)).toThrow();
    expect(() => jsonMessages("{", false)).toThrow();
  });

  it("never gives a cursor at or before the client's", () => {
    const epoch = Date.UTC(2024, 9, 9);
    const random = fc.double({ min: 0, max: 0.999, noNaN: true });
    fc.assert(
      fc.property(fc.nat({ max: 1e12 }), fc.nat({ max: 1e9 }), random, (now, c, r) => {
        expect(Number(nextCursor(epoch + now, String(c), () => r))).toBeGreaterThan(c);
      }),
    );
  });
});
