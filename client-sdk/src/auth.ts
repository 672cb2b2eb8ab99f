/**
 * Tokens (PROTOCOL.md §15): a fixed string, or a function the SDK asks for a token at
 * connect, again before the token expires, and once more after the broker refused one
 * (401). What only a function needs (reading `exp`, in-band refresh) is in renew.ts, loaded
 * on demand: most clients have no token or a fixed one.
 */
import type { Link } from "./link.ts";

/** A token, or a function returning one (sync or async). */
export type TokenSource = string | (() => string | Promise<string>);

/** Codes after which a new token may help: the token was refused or ran out (HTTP 401). */
export const renewable = (code: string) => code === "UNAUTHENTICATED" || code === "TOKEN_EXPIRED";

/** The `Authorization` header of a token; none without one. */
export const authHeaders = (token?: string): Record<string, string> =>
  token ? { authorization: `Bearer ${token}` } : {};

/** The client's token, shared by its sockets and HTTP calls. */
export interface Tokens {
  /**
   * The token to use now. A string (or none) is given as is, synchronously; from a function,
   * the current token until it is due, else a new one; `stale` is one that will not do.
   */
  get(stale?: string): string | undefined | Promise<string>;
  /** Whether a new token can be asked for (the source is a function). */
  renews: boolean;
  /** Arms an open link's in-band refresh (AUTH, §15.4) for when its token is due. */
  watch?(link: Link): void;
}

export function tokens(source: TokenSource | undefined): Tokens {
  if (typeof source !== "function") return { renews: false, get: () => source };
  let loaded: Promise<Required<Tokens>> | undefined;
  // A chunk that failed to load (offline) is asked for again at the next connect.
  const load = () =>
    (loaded ??= import("./renew.ts").then(
      (m) => m.renewing(source),
      (e) => {
        loaded = undefined;
        throw e;
      },
    ));
  return {
    renews: true,
    get: (stale) => load().then((t) => t.get(stale) as Promise<string>),
    watch: (link) =>
      void load().then(
        (t) => t.watch(link),
        () => {},
      ),
  };
}
