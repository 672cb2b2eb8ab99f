/**
 * Site keys (docs/PROTOCOL.md §15.5): public, produce-only keys for tracking snippets. A key
 * sits in page source, so it is not a secret; what protects a deployment is that it can
 * only produce, only to its topics, only from its origins, and only at its rate.
 */
import { KaitenError } from "@kaiten/protocol";
import { allows, type Rights } from "./rights.ts";

export interface SiteKeySpec {
  /** `scheme://host[:port]`, or `scheme://*.domain` for every subdomain of domain. */
  origins: string[];
  /** Topic patterns (`*` matches any run of characters). */
  topics: string[];
  /** Records per second, refilled continuously. Default: 1,000. */
  recordsPerSecond: number;
  /** Records that may be sent at once after a quiet spell. Default: 5,000. */
  burst: number;
}

export interface SiteKey extends SiteKeySpec {
  id: string;
  key: string;
  createdAt: number;
}

const MAX_ORIGINS = 32;
const MAX_TOPICS = 32;
const ORIGIN = /^(https?):\/\/(\*\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)*)(?::(\d{1,5}))?$/;
const KEY = /^pk_([a-z0-9]{12})_[a-z0-9]{24}$/;

function bad(message: string): KaitenError {
  return new KaitenError("INVALID_REQUEST", message);
}

/** The spec of `POST /v1/site-keys`, checked field by field. */
export function parseSiteKeySpec(body: Record<string, unknown>): SiteKeySpec {
  const origins = stringList(body.origins, "origins", MAX_ORIGINS);
  for (const o of origins)
    if (!ORIGIN.test(o))
      throw bad(
        `origin "${o}" is not scheme://host[:port] or scheme://*.domain (lowercase, no path)`,
      );
  const topics = stringList(body.topics, "topics", MAX_TOPICS);
  for (const t of topics)
    if (!/^[A-Za-z0-9._*-]{1,249}$/.test(t)) throw bad(`topic pattern "${t}" is not valid`);
  return {
    origins,
    topics,
    recordsPerSecond: positive(body.recordsPerSecond, "recordsPerSecond", 1_000),
    burst: positive(body.burst, "burst", 5_000),
  };
}

function stringList(v: unknown, field: string, max: number): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > max || v.some((s) => typeof s !== "string"))
    throw bad(`${field} must be a list of 1 to ${max} strings`);
  return v as string[];
}

function positive(v: unknown, field: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 1_000_000)
    throw bad(`${field} must be an integer from 1 to 1000000`);
  return v;
}

/** A new key: `pk_<id>_<secret>`, lowercase letters and digits, from `random` bytes. */
export function newSiteKey(randomBytes: (n: number) => Uint8Array): { id: string; key: string } {
  const id = alnum(randomBytes(12));
  return { id, key: `pk_${id}_${alnum(randomBytes(24))}` };
}

function alnum(bytes: Uint8Array): string {
  const chars = "abcdefghijklmnopqrstuvwxyz0123456789";
  // 256 % 36 != 0 leaves a slight bias; fine for an identifier that is public anyway.
  return Array.from(bytes, (b) => chars[b % chars.length]).join("");
}

/** The id inside a key, or null when the text is not a site key at all. */
export function siteKeyId(key: string): string | null {
  return KEY.exec(key)?.[1] ?? null;
}

/** Exact `scheme://host[:port]`, or `scheme://*.domain` for any subdomain (not the domain itself). */
export function originAllowed(allowed: readonly string[], origin: string | null): boolean {
  if (!origin) return false;
  const o = ORIGIN.exec(origin.toLowerCase());
  if (!o || o[2]) return false;
  return allowed.some((pattern) => {
    const p = ORIGIN.exec(pattern);
    if (!p || p[1] !== o[1] || (p[4] ?? "") !== (o[4] ?? "")) return false;
    const host = o[3] as string;
    return p[2] ? host.endsWith(`.${p[3]}`) : host === p[3];
  });
}

/** The rights a site key gives: produce to its topics, nothing else. */
export function siteKeyRights(spec: SiteKeySpec): Rights {
  return {
    admin: false,
    patterns: { produce: spec.topics, subscribe: [], create: [], group: [] },
  };
}

/** Token bucket of one key; kept in memory by whatever owns the key (a restart refills it). */
export interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Takes `records` from the bucket, or answers how many ms until it can. A request larger
 * than the burst goes through when the bucket is full and leaves it in debt, so no request
 * is refused forever.
 */
export function take(bucket: Bucket, spec: SiteKeySpec, records: number, now: number): number {
  const refill = ((now - bucket.at) / 1000) * spec.recordsPerSecond;
  bucket.tokens = Math.min(spec.burst, bucket.tokens + Math.max(0, refill));
  bucket.at = now;
  const need = Math.min(records, spec.burst);
  if (bucket.tokens >= need) {
    bucket.tokens -= records;
    return 0;
  }
  return Math.ceil(((need - bucket.tokens) / spec.recordsPerSecond) * 1000);
}

export interface Admission {
  key: string;
  origin: string | null;
  topic: string;
  records: number;
}

/** Checks one produce under a site key; throws the documented refusal (§15.5). */
export function admit(site: SiteKey | null, bucket: Bucket, a: Admission, now: number): void {
  if (!site || site.key !== a.key)
    throw new KaitenError("UNAUTHENTICATED", "unknown or revoked site key");
  if (!originAllowed(site.origins, a.origin))
    throw new KaitenError(
      "FORBIDDEN",
      a.origin
        ? `origin ${a.origin} is not allowed for this site key`
        : "a site key needs an Origin",
    );
  if (!allows(siteKeyRights(site), "produce", a.topic))
    throw new KaitenError("FORBIDDEN", `this site key cannot produce to "${a.topic}"`);
  const wait = take(bucket, site, a.records, now);
  if (wait > 0)
    throw new KaitenError("THROTTLED", `over this site key's rate; retry in ${wait} ms`, wait);
}
