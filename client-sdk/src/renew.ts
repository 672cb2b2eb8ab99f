/**
 * Token refresh (PROTOCOL.md §15.4): the part of tokens that only a token function needs,
 * loaded by auth.ts with a dynamic import when a client is given one, so the main entry
 * carries none of it. The function is asked at connect, again before the token expires
 * (read from its `exp`; each open socket then sends the new one in-band with AUTH), and once
 * more after the broker refused one (401). Every socket and HTTP call of a client shares one
 * token, so a hundred partitions ask the function once, not a hundred times.
 */
import { FrameType } from "@kaiten/protocol";
import type { Tokens } from "./auth.ts";
import type { Link } from "./link.ts";

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

/** The client's tokens from a function: cached until due, and refreshed in-band on open sockets. */
export function renewing(source: () => string | Promise<string>): Required<Tokens> {
  /** When the current token is to be replaced (ms); Infinity while one is being fetched, or without `exp`. */
  let due = 0;
  let current: Promise<string> | undefined;
  let last: string | undefined;
  // `stale`: a token that will not do (refused by the broker, or about to expire), so another
  // is asked for, once, however many sockets ask with it.
  const get = (stale?: string): Promise<string> => {
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
  };
  const watch = (link: Link): void => {
    clearTimeout(link.refresh);
    // Called through a promise (auth.ts): the socket may be gone by now.
    if (!link.isOpen) return;
    // At least a second apart: a token already near its end must not make a busy loop.
    const wait = Math.max(1_000, Math.min(due - Date.now(), 2 ** 31 - 1));
    link.refresh = setTimeout(async () => {
      try {
        // Not the socket's token: a timer may fire a little early, before it is due.
        const token = await get(link.bearer);
        if (link.send(authFrame(token))) link.bearer = token;
      } catch {
        watch(link);
      }
    }, wait);
  };
  return { renews: true, get, watch };
}
