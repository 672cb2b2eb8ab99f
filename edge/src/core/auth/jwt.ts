/**
 * JWT verification (docs/PROTOCOL.md §15.1) with `jose`, which uses Web Crypto and runs the
 * same in Workers, Node and browsers. No hand-written crypto here: this file only chooses
 * keys and turns jose's errors into the protocol's codes.
 */
import { KaitenError } from "@kaiten/protocol";
import { createLocalJWKSet, errors, type JWTPayload, jwtVerify } from "jose";
import { parseScope, type Rights } from "./rights.ts";
import type { JwtSettings } from "./settings.ts";

/** Clock skew forgiven on `exp` and `nbf`, in seconds. */
export const CLOCK_LEEWAY_S = 30;

/** HS256 for the shared secret; the rest for public keys in the JWKS. Never `none`. */
const PUBLIC_KEY_ALGS = ["ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "EdDSA", "Ed25519"];

export interface VerifiedToken {
  subject: string | null;
  rights: Rights;
  /** When the token's rights end, leeway included, in ms since the epoch. */
  expiresAt: number;
  scope: string;
}

export type TokenVerifier = (token: string, now?: number) => Promise<VerifiedToken>;

export const NOT_CONFIGURED_MESSAGE =
  'KAITEN_AUTH is "jwt" but no key is configured: set the secret KAITEN_JWT_SECRET (HS256) or ' +
  'KAITEN_JWT_JWKS (a JSON Web Key Set of public keys), or set KAITEN_AUTH to "off" for local development';

/** A verifier for the configured keys, or null when none is configured. */
export function createTokenVerifier(jwt: JwtSettings): TokenVerifier | null {
  if (!jwt.secret && !jwt.jwks) return null;
  const secret = jwt.secret ? new TextEncoder().encode(jwt.secret) : null;
  const jwks = jwt.jwks ? createLocalJWKSet(parseJwks(jwt.jwks)) : null;
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? PUBLIC_KEY_ALGS : [])];
  return async (token, now = Date.now()) => {
    try {
      const { payload } = await jwtVerify(
        token,
        // HS256 only ever uses the shared secret, public-key algorithms only the JWKS: a
        // token "signed" with HS256 keyed by a public key can never verify.
        async (header, t) => {
          if (header.alg === "HS256" && secret) return secret;
          if (header.alg !== "HS256" && jwks) return jwks(header, t);
          throw new errors.JOSEAlgNotAllowed(`algorithm ${header.alg} is not configured`);
        },
        {
          algorithms,
          issuer: jwt.issuer,
          audience: jwt.audience,
          clockTolerance: CLOCK_LEEWAY_S,
          requiredClaims: ["exp"],
          currentDate: new Date(now),
        },
      );
      return verified(payload);
    } catch (error) {
      throw tokenError(error);
    }
  };
}

function verified(payload: JWTPayload): VerifiedToken {
  const scope = typeof payload.scope === "string" ? payload.scope : "";
  return {
    subject: typeof payload.sub === "string" ? payload.sub : null,
    rights: parseScope(payload.scope),
    expiresAt: ((payload.exp as number) + CLOCK_LEEWAY_S) * 1000,
    scope,
  };
}

/** A JWKS that cannot be read is a deployment error: say so at the first request. */
function parseJwks(text: string): { keys: never[] } {
  try {
    const set = JSON.parse(text) as { keys?: unknown };
    if (Array.isArray(set.keys)) return set as { keys: never[] };
  } catch {
    // Reported below.
  }
  throw new KaitenError("AUTH_NOT_CONFIGURED", "KAITEN_JWT_JWKS is not a JSON Web Key Set");
}

/** jose's errors as protocol errors: 401 with a message that says what was wrong. */
export function tokenError(error: unknown): KaitenError {
  if (error instanceof KaitenError) return error;
  if (error instanceof errors.JWTExpired)
    return new KaitenError("TOKEN_EXPIRED", "the token has expired");
  const why =
    error instanceof errors.JWTClaimValidationFailed
      ? `the token's "${error.claim}" claim is not accepted: ${error.message}`
      : error instanceof errors.JWSSignatureVerificationFailed
        ? "the token's signature does not verify"
        : error instanceof errors.JOSEAlgNotAllowed
          ? "the token's algorithm is not accepted"
          : error instanceof errors.JWKSNoMatchingKey
            ? "no configured key matches the token's kid"
            : error instanceof errors.JOSEError
              ? `the token is not valid (${error.code})`
              : "the token is not valid";
  return new KaitenError("UNAUTHENTICATED", why);
}
