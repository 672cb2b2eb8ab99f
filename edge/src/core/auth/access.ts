/**
 * Who is asking, and what they may do (docs/PROTOCOL.md §15). Hosts read the credentials
 * off a request and ask here; the rules live in one place for every host and endpoint.
 */
import { KaitenError } from "@kaiten/protocol";
import { createTokenVerifier, NOT_CONFIGURED_MESSAGE, type TokenVerifier } from "./jwt.ts";
import { ALL_RIGHTS, allows, type Right, type Rights, scopeOf } from "./rights.ts";
import type { AuthSettings, JwtSettings } from "./settings.ts";

export type Principal =
  /** KAITEN_AUTH="off": everything is allowed. */
  | { kind: "open" }
  | { kind: "token"; subject: string | null; rights: Rights; expiresAt: number }
  /** A site key: produce only, checked at admission (site-keys.ts). */
  | { kind: "site-key"; key: string; origin: string | null };

/** What a request carries; hosts read these off headers and the query string. */
export interface Credentials {
  /** The `Authorization` header. */
  authorization: string | null;
  /** The `token` query parameter (browsers cannot set headers on a WebSocket or EventSource). */
  token: string | null;
  /** The `key` query parameter: a site key. */
  key: string | null;
  /** The `Origin` header. */
  origin: string | null;
}

const verifiers = new Map<string, TokenVerifier | null>();

/** One verifier per key configuration per process or isolate (keys are imported once). */
export function verifierFor(jwt: JwtSettings): TokenVerifier | null {
  const id = JSON.stringify([jwt.secret, jwt.jwks, jwt.issuer, jwt.audience]);
  if (!verifiers.has(id)) {
    if (verifiers.size > 8) verifiers.clear();
    verifiers.set(id, createTokenVerifier(jwt));
  }
  return verifiers.get(id) ?? null;
}

/** The principal of a request; throws 401-class errors (§15.3). */
export async function authenticate(c: Credentials, settings: AuthSettings): Promise<Principal> {
  if (settings.mode === "off") return { kind: "open" };
  const verify = verifierFor(settings.jwt);
  if (!verify) throw new KaitenError("AUTH_NOT_CONFIGURED", NOT_CONFIGURED_MESSAGE);
  if (c.key !== null) return { kind: "site-key", key: c.key, origin: c.origin };
  const token = bearer(c.authorization) ?? c.token;
  if (!token)
    throw new KaitenError(
      "UNAUTHENTICATED",
      "no token: send Authorization: Bearer <token>, or ?token= on a WebSocket",
    );
  const t = await verify(token);
  return { kind: "token", subject: t.subject, rights: t.rights, expiresAt: t.expiresAt };
}

function bearer(header: string | null): string | null {
  if (header === null) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m)
    throw new KaitenError("UNAUTHENTICATED", "the Authorization header is not Bearer <token>");
  return m[1] as string;
}

/** The rights of a principal on the JWT side; a site key has none here (it only produces). */
export function rightsOf(p: Principal): Rights {
  if (p.kind === "open") return ALL_RIGHTS;
  if (p.kind === "token") return p.rights;
  return { admin: false, patterns: { produce: [], subscribe: [], create: [], group: [] } };
}

/** Throws FORBIDDEN unless the principal holds `right` on `name`. */
export function requireRight(p: Principal, right: Right, name: string): void {
  if (p.kind === "site-key")
    throw new KaitenError("FORBIDDEN", "a site key can only produce records");
  if (!allows(rightsOf(p), right, name))
    throw new KaitenError("FORBIDDEN", `the token has no ${right} right on "${name}"`);
}

export function requireAdmin(p: Principal): void {
  if (!rightsOf(p).admin)
    throw new KaitenError(
      "FORBIDDEN",
      p.kind === "site-key" ? "a site key can only produce records" : "this needs the admin right",
    );
}

/** What a socket to one partition may do, kept with the socket (it survives hibernation). */
export interface SocketGrant {
  produce: boolean;
  subscribe: boolean;
  /** When the socket's rights end, ms since the epoch; 0: never (auth off, site keys). */
  expiresAt: number;
  /** Set for a site-key socket: every PRODUCE is admitted against the key (§15.5). */
  siteKey?: { key: string; origin: string | null };
}

/** The grant of a socket to `topic`; FORBIDDEN when the principal can do nothing there. */
export function socketGrant(p: Principal, topic: string): SocketGrant {
  if (p.kind === "site-key")
    return {
      produce: true,
      subscribe: false,
      expiresAt: 0,
      siteKey: { key: p.key, origin: p.origin },
    };
  const rights = rightsOf(p);
  const grant = {
    produce: allows(rights, "produce", topic),
    subscribe: allows(rights, "subscribe", topic),
    expiresAt: p.kind === "token" ? p.expiresAt : 0,
  };
  if (!grant.produce && !grant.subscribe)
    throw new KaitenError("FORBIDDEN", `the token has no produce or subscribe right on "${topic}"`);
  return grant;
}

/** What `GET /v1/auth` answers: who is signed in, with which rights (§15.3). */
export function describePrincipal(p: Principal, settings: AuthSettings) {
  if (p.kind === "site-key")
    throw new KaitenError("FORBIDDEN", "a site key can only produce records");
  const rights = rightsOf(p);
  return {
    mode: settings.mode,
    subject: p.kind === "token" ? p.subject : null,
    admin: rights.admin,
    scope: scopeOf(rights),
    expiresAt: p.kind === "token" ? p.expiresAt : null,
  };
}
