/**
 * Tokens (PROTOCOL.md §15): a fixed string, or a function the SDK asks for a token at
 * connect, again before the token expires (the links send it in-band with AUTH, §15.4), and
 * once more after the broker refused one (401). Every socket and HTTP call of a client
 * shares one token, so a hundred partitions ask the function once, not a hundred times.
 */

import { FrameType } from "@kaiten/protocol";

/** A token, or a function returning one (sync or async). */
export type TokenSource = string | (() => string | Promise<string>);

/**
 * AUTH (§15.4) with request id 0xFFFFFFFF, which the client's own requests never use (they
 * wrap below it), byte for byte as the protocol's encodeFrame writes it (test/auth.test.ts).
 * Written here, and AUTHED read by its type byte in link.ts, to keep the frame codec lean.
 */
export function authFrame(token: string): Uint8Array {
  const t = new TextEncoder().encode(token);
  const out = new Uint8Array(7 + t.length).fill(255, 1, 5);
  out[0] = FrameType.Auth;
  out[5] = t.length >> 8;
  out[6] = t.length;
  out.set(t, 7);
  return out;
}

/** Codes after which a new token may help: the token was refused or ran out (HTTP 401). */
export const renewable = (code: string) => code === "UNAUTHENTICATED" || code === "TOKEN_EXPIRED";

/**
 * When a token's rights end, in ms, from its `exp` claim; 0 when it has none or cannot be
 * read. Read without verifying: the broker verifies, the SDK only needs to know when to refresh.
 */
export function expiryOf(token: string): number {
  try {
    const part = (token.split(".")[1] as string).replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part)).exp * 1000 || 0;
  } catch {
    return 0;
  }
}

/** The client's token, shared by its sockets and HTTP calls. */
export interface Tokens {
  /**
   * The token to use now. A string (or none) is given as is, synchronously; from a function,
   * the current token until it is due, else a new one. `stale`: a token that will not do
   * (refused by the broker, or about to expire), so another is asked for, once, however
   * many sockets ask with it.
   */
  get(stale?: string): string | undefined | Promise<string>;
  /** When the current token is to be replaced (ms); Infinity while one is being fetched, or without `exp`. */
  due(): number;
  /** Whether a new token can be asked for (the source is a function). */
  renews: boolean;
}

export function tokens(source: TokenSource | undefined): Tokens {
  const renews = typeof source === "function";
  let due = 0;
  let current: Promise<string> | undefined;
  let last: string | undefined;
  return {
    renews,
    due: () => due,
    get(stale) {
      if (typeof source !== "function") return source;
      if (!current || Date.now() >= due || (stale && stale === last)) {
        due = Infinity;
        last = undefined;
        const p = (async () => source())().then((t) => {
          const exp = expiryOf(t);
          // A safe margin before `exp`: a tenth of the token's life, and at least 3 s.
          due = exp ? exp - Math.max(3_000, (exp - Date.now()) / 10) : Infinity;
          last = t;
          return t;
        });
        // A failed call is not kept: the next connect asks again.
        p.catch(() => {
          if (current === p) current = undefined;
        });
        current = p;
      }
      return current;
    },
  };
}
