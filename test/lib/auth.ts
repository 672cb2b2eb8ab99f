/**
 * Keys and tokens for the auth tests (docs/PROTOCOL.md §15), minted with `jose` as a
 * deployment's own backend would: an HS256 secret, and a JWKS of ES256, RS256 and EdDSA
 * public keys chosen by `kid`.
 */
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT, UnsecuredJWT } from "jose";

export const SECRET = "test-secret-0123456789-abcdefghijklmnop";
export const ISSUER = "https://auth.kaiten.test/";
export const AUDIENCE = "kaiten-test";

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

export interface TestKeys {
  pairs: Record<"ES256" | "RS256" | "EdDSA", KeyPair>;
  /** The public JWKS, as KAITEN_JWT_JWKS holds it. */
  jwks: string;
}

export async function testKeys(): Promise<TestKeys> {
  const pairs = {
    ES256: await generateKeyPair("ES256", { extractable: true }),
    RS256: await generateKeyPair("RS256", { extractable: true }),
    EdDSA: await generateKeyPair("EdDSA", { extractable: true }),
  };
  const keys = await Promise.all(
    Object.entries(pairs).map(async ([alg, p]) => ({
      ...(await exportJWK(p.publicKey)),
      kid: `kid-${alg}`,
      alg,
      use: "sig",
    })),
  );
  return { pairs, jwks: JSON.stringify({ keys }) };
}

/**
 * Settings of a broker that checks tokens against these keys: `vars` of test/lib/broker.ts
 * (wrangler [vars] on Cloudflare, environment variables on Node).
 */
export function jwtVars(
  keys: TestKeys,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAITEN_AUTH: "jwt",
    KAITEN_JWT_SECRET: SECRET,
    KAITEN_JWT_JWKS: keys.jwks,
    KAITEN_JWT_ISSUER: ISSUER,
    KAITEN_JWT_AUDIENCE: AUDIENCE,
    ...extra,
  };
}

/** `wrangler dev` arguments for a broker that checks tokens against these keys. */
export function jwtArgs(keys: TestKeys, extra: Record<string, string> = {}): string[] {
  return Object.entries(jwtVars(keys, extra)).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
}

export interface MintOptions {
  scope?: string;
  /** Seconds from now; null for no `exp` at all. Default: 300 */
  ttl?: number | null;
  /** `nbf`, in seconds from now. */
  notBefore?: number;
  issuer?: string;
  audience?: string;
  /** HS256 with SECRET unless a key pair (by algorithm) or another secret is given. */
  alg?: "HS256" | "ES256" | "RS256" | "EdDSA";
  secret?: string | Uint8Array;
  keys?: TestKeys;
  subject?: string;
}

const now = () => Math.floor(Date.now() / 1000);

export async function mint(o: MintOptions = {}): Promise<string> {
  const payload: JWTPayload = { scope: o.scope ?? "" };
  const alg = o.alg ?? "HS256";
  const jwt = new SignJWT(payload)
    .setProtectedHeader(alg === "HS256" ? { alg } : { alg, kid: `kid-${alg}` })
    .setIssuedAt()
    .setSubject(o.subject ?? "tester")
    .setIssuer(o.issuer ?? ISSUER)
    .setAudience(o.audience ?? AUDIENCE);
  const ttl = o.ttl === undefined ? 300 : o.ttl;
  if (ttl !== null) jwt.setExpirationTime(now() + ttl);
  if (o.notBefore !== undefined) jwt.setNotBefore(now() + o.notBefore);
  if (alg === "HS256") {
    const secret = o.secret ?? SECRET;
    return jwt.sign(typeof secret === "string" ? new TextEncoder().encode(secret) : secret);
  }
  if (!o.keys) throw new Error(`${alg} needs the test keys`);
  return jwt.sign(o.keys.pairs[alg].privateKey);
}

/** A token with `alg: none`: no signature at all. */
export function unsigned(scope: string): string {
  return new UnsecuredJWT({ scope })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setExpirationTime(now() + 300)
    .encode();
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
