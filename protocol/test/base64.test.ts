/**
 * Base64 for byte values in the HTTP API's JSON (docs/PROTOCOL.md §11: RFC 4648 §4, padded).
 * protocol/ may not use platform helpers, so its codec is checked against Node's Buffer,
 * which the tests (running in Node) can use.
 */
import { Buffer } from "node:buffer";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromBase64, toBase64 } from "../src/index.ts";

/** Exactly the padded, standard-alphabet base64 of RFC 4648 §4. */
const CANONICAL_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

describe("base64 (RFC 4648 §4)", () => {
  it("round-trips arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(fromBase64(toBase64(bytes))).toStrictEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("encodes exactly as Node's Buffer does", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      }),
      { numRuns: 1000 },
    );
  });

  it.each([
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ])("matches the RFC 4648 §10 test vector for %j", (plain, encoded) => {
    const bytes = new TextEncoder().encode(plain);
    expect(toBase64(bytes)).toBe(encoded);
    expect(fromBase64(encoded)).toStrictEqual(bytes);
  });

  it("decodes every padded base64 text as Node's Buffer does, and nothing else", () => {
    // Texts over the alphabet plus '=', in lengths that are multiples of 4, so the shape
    // check, not just the length check, decides.
    const alphabet = fc.constantFrom(
      ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/==",
    );
    const text = fc
      .array(fc.string({ unit: alphabet, minLength: 4, maxLength: 4 }), { maxLength: 6 })
      .map((quads) => quads.join(""));
    fc.assert(
      fc.property(text, (s) => {
        const decoded = fromBase64(s);
        if (CANONICAL_SHAPE.test(s)) {
          expect(decoded).toStrictEqual(new Uint8Array(Buffer.from(s, "base64")));
        } else {
          expect(decoded).toBeNull();
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["a length that is not a multiple of 4", "Zm9"],
    ["missing padding", "Zg"],
    ["padding in the middle", "Zg==Zm9v"],
    ["too much padding", "Z==="],
    ["only padding", "===="],
    ["a character outside the alphabet", "Zm9*"],
    ["the URL-safe alphabet", "-_-_"],
    ["whitespace", "Zm9v Zm9v"],
    ["a non-ASCII character", "Zm9é"],
    ["a character whose low byte is in the alphabet", "Zm9\u0141"],
  ])("returns null for %s", (_why, text) => {
    expect(fromBase64(text)).toBeNull();
  });

  it("returns null for arbitrary text that is not padded base64", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (s) => {
        fc.pre(!CANONICAL_SHAPE.test(s));
        expect(fromBase64(s)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  });
});
