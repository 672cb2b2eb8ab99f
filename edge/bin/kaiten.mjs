#!/usr/bin/env node
// `npx kaiten`: mint tokens and manage site keys for a Kaiten deployment, so that trying
// auth needs no JWT code (README, "Securing a deployment"; docs/PROTOCOL.md §15).
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";

const HELP = `kaiten: tokens and site keys for a Kaiten broker

  kaiten token --scope "<rights>" [--ttl 1h] [--sub NAME] [--secret S | --key private.jwk]
               [--issuer ISS] [--audience AUD]
      Prints a JWT. Rights: "admin", "produce:<pattern>", "subscribe:<pattern>",
      "create:<pattern>", "group:<pattern>", space-separated; * matches any run of characters.
      HS256 with --secret, else $KAITEN_JWT_SECRET, else KAITEN_JWT_SECRET in ./.dev.vars;
      or signed with a private JWK (--key, its "kid" and "alg" go in the header).
      Issuer and audience default to $KAITEN_JWT_ISSUER and $KAITEN_JWT_AUDIENCE.

  kaiten keygen [--alg ES256|RS256|EdDSA] [--kid ID]
      Prints a new key pair as JSON: "jwks" (the public set for KAITEN_JWT_JWKS) and
      "privateJwk" (keep it in your token issuer; pass it to --key).

  kaiten site-key create --url URL --origin ORIGIN... --topic PATTERN... [--rate N] [--burst N]
  kaiten site-key list --url URL
  kaiten site-key revoke ID --url URL
      Admin calls, authenticated with --token, or with an admin token minted as above.
`;

const DURATION = /^(\d+)(s|m|h|d)?$/;

function fail(message) {
  console.error(`kaiten: ${message}`);
  process.exit(2);
}

function seconds(text) {
  const m = DURATION.exec(text);
  if (!m) fail(`--ttl "${text}" is not a duration such as 90s, 15m, 1h or 7d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? "s"];
}

function devVar(name) {
  try {
    const line = readFileSync(".dev.vars", "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${name}=`));
    return line?.slice(name.length + 1).replace(/^"(.*)"$/, "$1");
  } catch {
    return undefined;
  }
}

async function signingKey(v) {
  if (v.key) {
    const jwk = JSON.parse(readFileSync(v.key, "utf8"));
    if (!jwk.alg || !jwk.kid) fail(`${v.key} needs "alg" and "kid" (kaiten keygen writes both)`);
    return { key: await importJWK(jwk, jwk.alg), header: { alg: jwk.alg, kid: jwk.kid } };
  }
  const secret = v.secret ?? process.env.KAITEN_JWT_SECRET ?? devVar("KAITEN_JWT_SECRET");
  if (!secret) fail("no key: pass --secret or --key, or set KAITEN_JWT_SECRET");
  return { key: new TextEncoder().encode(secret), header: { alg: "HS256" } };
}

async function token(v) {
  if (!v.scope) fail('--scope is required, for example --scope "subscribe:prices.*"');
  const { key, header } = await signingKey(v);
  const jwt = new SignJWT({ scope: v.scope })
    .setProtectedHeader(header)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + seconds(v.ttl ?? "1h"));
  if (v.sub) jwt.setSubject(v.sub);
  const issuer = v.issuer ?? process.env.KAITEN_JWT_ISSUER;
  const audience = v.audience ?? process.env.KAITEN_JWT_AUDIENCE;
  if (issuer) jwt.setIssuer(issuer);
  if (audience) jwt.setAudience(audience);
  return jwt.sign(key);
}

async function keygen(v) {
  const alg = v.alg ?? "ES256";
  const kid = v.kid ?? `${alg.toLowerCase()}-${new Date().toISOString().slice(0, 10)}`;
  const pair = await generateKeyPair(alg, { extractable: true });
  const pub = { ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" };
  const priv = { ...(await exportJWK(pair.privateKey)), kid, alg };
  return JSON.stringify({ jwks: { keys: [pub] }, privateJwk: priv }, null, 2);
}

async function admin(v, method, path, body) {
  if (!v.url) fail("--url is required, for example --url https://kaiten.example.com");
  const bearer = v.token ?? (await token({ ...v, scope: "admin", ttl: "5m" }));
  const response = await fetch(new URL(path, v.url), {
    method,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) fail(`${method} ${path}: ${response.status} ${text}`);
  return JSON.stringify(JSON.parse(text), null, 2);
}

async function siteKey(v, [action, id]) {
  if (action === "list") return admin(v, "GET", "/v1/site-keys");
  if (action === "revoke") {
    if (!id) fail("site-key revoke needs the key's id");
    return admin(v, "DELETE", `/v1/site-keys/${encodeURIComponent(id)}`);
  }
  if (action !== "create") fail("site-key takes create, list or revoke");
  const spec = { origins: v.origin ?? [], topics: v.topic ?? [] };
  if (v.rate) spec.recordsPerSecond = Number(v.rate);
  if (v.burst) spec.burst = Number(v.burst);
  return admin(v, "POST", "/v1/site-keys", spec);
}

const options = {
  scope: { type: "string" },
  ttl: { type: "string" },
  sub: { type: "string" },
  secret: { type: "string" },
  key: { type: "string" },
  issuer: { type: "string" },
  audience: { type: "string" },
  alg: { type: "string" },
  kid: { type: "string" },
  url: { type: "string" },
  token: { type: "string" },
  origin: { type: "string", multiple: true },
  topic: { type: "string", multiple: true },
  rate: { type: "string" },
  burst: { type: "string" },
  help: { type: "boolean", short: "h" },
};

let parsed;
try {
  parsed = parseArgs({ options, allowPositionals: true });
} catch (error) {
  fail(error.message);
}
const { values, positionals } = parsed;
const [command, ...rest] = positionals;
if (values.help || !command) {
  console.log(HELP);
  process.exit(command || values.help ? 0 : 2);
}
const commands = {
  token: () => token(values),
  keygen: () => keygen(values),
  "site-key": () => siteKey(values, rest),
};
if (!commands[command]) fail(`unknown command "${command}"; try kaiten --help`);
console.log(await commands[command]());
