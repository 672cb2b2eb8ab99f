/**
 * The rules of docs/PROTOCOL.md §15 as pure functions (edge/src/core/auth): scope parsing,
 * `*` patterns, origins of site keys, and the rate-limit bucket.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allows, matches, parseScope, scopeOf } from "../src/core/auth/rights.ts";
import {
  type Bucket,
  newSiteKey,
  originAllowed,
  type SiteKeySpec,
  siteKeyId,
  take,
} from "../src/core/auth/site-keys.ts";

describe("§15.2 patterns", () => {
  it("matches * as any run of characters and everything else literally", () => {
    expect(matches("prices.*", "prices.eur")).toBe(true);
    expect(matches("prices.*", "prices.")).toBe(true);
    expect(matches("prices.*", "prices")).toBe(false);
    expect(matches("*", "")).toBe(true);
    expect(matches("a*b*c", "aXXbYYc")).toBe(true);
    expect(matches("a*b*c", "aXXbYY")).toBe(false);
    expect(matches("a.b", "aXb")).toBe(false);
  });

  it("agrees with a regular expression built from the pattern, for any pattern and name", () => {
    const alphabet = fc.constantFrom("a", "b", ".", "*", "-");
    fc.assert(
      fc.property(
        fc.string({ unit: alphabet, maxLength: 8 }),
        fc.string({ unit: alphabet, maxLength: 10 }),
        (pattern, name) => {
          const escaped = pattern.replace(/[.+?^${}()|[\]\\-]/g, "\\$&").replace(/\*/g, ".*");
          expect(matches(pattern, name)).toBe(new RegExp(`^${escaped}$`, "s").test(name));
        },
      ),
    );
  });

  it("finishes on a hostile pattern (an exponential matcher would time this test out)", () => {
    expect(matches(`${"*a".repeat(100)}b`, "a".repeat(5_000))).toBe(false);
  });
});

describe("§15.2 scope", () => {
  it("parses rights, ignores unknown entries, and treats admin as everything", () => {
    const r = parseScope("produce:a.* subscribe:b read:c bogus  create:a.x");
    expect(r.admin).toBe(false);
    expect(scopeOf(r)).toBe("produce:a.* subscribe:b create:a.x");
    expect(allows(r, "produce", "a.1")).toBe(true);
    expect(allows(r, "subscribe", "a.1")).toBe(false);
    expect(allows(parseScope("admin"), "group", "anything")).toBe(true);
    expect(parseScope(undefined).patterns.produce).toEqual([]);
    expect(parseScope(["produce:x"]).patterns.produce).toEqual(["x"]);
  });
});

describe("§15.5 site keys", () => {
  it("allows exact origins and subdomains of a wildcard, nothing else", () => {
    const allowed = ["https://shop.example", "https://*.example.org", "http://127.0.0.1:5173"];
    expect(originAllowed(allowed, "https://shop.example")).toBe(true);
    expect(originAllowed(allowed, "https://a.b.example.org")).toBe(true);
    expect(originAllowed(allowed, "http://127.0.0.1:5173")).toBe(true);
    for (const o of [
      "https://example.org",
      "http://shop.example",
      "https://shop.example:8443",
      "https://shop.example.evil",
      "https://evilexample.org",
      "http://127.0.0.1",
      "null",
      "",
      null,
    ])
      expect(originAllowed(allowed, o), String(o)).toBe(false);
  });

  it("makes keys whose id can be read back", () => {
    let n = 0;
    const { id, key } = newSiteKey((size) => Uint8Array.from({ length: size }, () => n++));
    expect(siteKeyId(key)).toBe(id);
    expect(siteKeyId("pk_short_x")).toBeNull();
  });

  it("refills the bucket at the rate up to the burst, and says how long to wait", () => {
    const spec: SiteKeySpec = { origins: [], topics: [], recordsPerSecond: 10, burst: 20 };
    const b: Bucket = { tokens: 20, at: 0 };
    expect(take(b, spec, 15, 0)).toBe(0);
    expect(take(b, spec, 10, 0)).toBe(500); // 5 left, 5 more take 0.5 s at 10/s
    expect(take(b, spec, 10, 500)).toBe(0);
    expect(take(b, spec, 1, 500)).toBe(100);
    expect(take(b, spec, 50, 100_000)).toBe(0); // larger than the burst: admitted when full
    expect(b.tokens).toBe(-30);
  });
});
