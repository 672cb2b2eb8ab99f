/**
 * Auth and quota settings, read from the same names on every host: wrangler.toml `[vars]` and
 * secrets on Cloudflare, environment variables on the Node host (README, "Securing a
 * deployment").
 */

export type AuthMode = "jwt" | "off";

export interface AuthSettings {
  /** "jwt" checks every request; "off" lets anyone do anything (local development only). */
  mode: AuthMode;
  jwt: JwtSettings;
  limits: Quotas;
}

export interface JwtSettings {
  /** HS256 shared secret (`KAITEN_JWT_SECRET`). */
  secret?: string | undefined;
  /** A JSON Web Key Set of public keys, chosen by `kid` (`KAITEN_JWT_JWKS`). */
  jwks?: string | undefined;
  /** When set, tokens must carry this `iss`. */
  issuer?: string | undefined;
  /** When set, tokens must carry this `aud`. */
  audience?: string | undefined;
}

/** What one deployment may be made to hold; every refusal is LIMIT_EXCEEDED (§15.6). */
export interface Quotas {
  /** Topics in the registry. Default: 1,000. */
  maxTopics: number;
  /** Partitions over all topics. Default: 10,000. */
  maxPartitions: number;
  /** Site keys. Default: 100. */
  maxSiteKeys: number;
  /** Consumer groups. Default: 10,000. */
  maxGroups: number;
}

/** The settings as named in wrangler.toml and the environment. */
export interface AuthVars {
  KAITEN_AUTH?: string | undefined;
  KAITEN_JWT_SECRET?: string | undefined;
  KAITEN_JWT_JWKS?: string | undefined;
  KAITEN_JWT_ISSUER?: string | undefined;
  KAITEN_JWT_AUDIENCE?: string | undefined;
  KAITEN_MAX_TOPICS?: string | undefined;
  KAITEN_MAX_PARTITIONS?: string | undefined;
  KAITEN_MAX_SITE_KEYS?: string | undefined;
  KAITEN_MAX_GROUPS?: string | undefined;
}

function count(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return value !== undefined && value !== "" && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}

function text(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}

/** Anything but an explicit "off" is "jwt": a typo never opens the broker. */
export function authSettings(vars: AuthVars): AuthSettings {
  return {
    mode: vars.KAITEN_AUTH?.trim().toLowerCase() === "off" ? "off" : "jwt",
    jwt: {
      secret: text(vars.KAITEN_JWT_SECRET),
      jwks: text(vars.KAITEN_JWT_JWKS),
      issuer: text(vars.KAITEN_JWT_ISSUER),
      audience: text(vars.KAITEN_JWT_AUDIENCE),
    },
    limits: {
      maxTopics: count(vars.KAITEN_MAX_TOPICS, 1_000),
      maxPartitions: count(vars.KAITEN_MAX_PARTITIONS, 10_000),
      maxSiteKeys: count(vars.KAITEN_MAX_SITE_KEYS, 100),
      maxGroups: count(vars.KAITEN_MAX_GROUPS, 10_000),
    },
  };
}
