import { matches } from "@kaiten/protocol";
/**
 * Rights (docs/PROTOCOL.md §15.2): the standard `scope` claim, space-separated. Each right
 * is `admin`, or `<right>:<pattern>` where the pattern is a topic (or group) name in which
 * `*` matches any run of characters.
 */

/** The rights a pattern can be given for. `admin` holds all of them on everything. */
export const RIGHTS = ["produce", "subscribe", "create", "group"] as const;
export type Right = (typeof RIGHTS)[number];

export interface Rights {
  readonly admin: boolean;
  readonly patterns: { readonly [R in Right]: readonly string[] };
}

/** Every right on every topic: auth "off", and the `admin` scope. */
export const ALL_RIGHTS: Rights = {
  admin: true,
  patterns: { produce: ["*"], subscribe: ["*"], create: ["*"], group: ["*"] },
};

/** Longest pattern kept, and most scope entries read: a hostile token cannot make matching slow. */
const MAX_PATTERN = 256;
const MAX_ENTRIES = 64;

/** Parses a `scope` claim. Unknown entries are ignored, so newer rights do not break older brokers. */
export function parseScope(scope: unknown): Rights {
  const entries =
    typeof scope === "string"
      ? scope.split(" ")
      : Array.isArray(scope)
        ? scope.filter((s): s is string => typeof s === "string")
        : [];
  const patterns: Record<Right, string[]> = { produce: [], subscribe: [], create: [], group: [] };
  let admin = false;
  for (const entry of entries.slice(0, MAX_ENTRIES)) {
    if (entry === "admin") admin = true;
    const colon = entry.indexOf(":");
    if (colon <= 0) continue;
    const right = entry.slice(0, colon) as Right;
    const pattern = entry.slice(colon + 1);
    if (RIGHTS.includes(right) && pattern !== "" && pattern.length <= MAX_PATTERN)
      patterns[right].push(pattern);
  }
  return admin ? ALL_RIGHTS : { admin, patterns };
}

/** The scope string of a set of rights, as a token would carry it. */
export function scopeOf(rights: Rights): string {
  if (rights.admin) return "admin";
  return RIGHTS.flatMap((r) => rights.patterns[r].map((p) => `${r}:${p}`)).join(" ");
}

export function allows(rights: Rights, right: Right, name: string): boolean {
  return rights.admin || rights.patterns[right].some((p) => matches(p, name));
}

/** Whether any right at all names this topic (to list it, or to describe it). */
export function touches(rights: Rights, name: string): boolean {
  return RIGHTS.some((r) => r !== "group" && allows(rights, r, name));
}

export { matches };
