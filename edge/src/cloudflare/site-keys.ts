/**
 * Site-key routes (PROTOCOL.md §15.5): the registry keeps the list (for `GET` and the
 * quota), and one SiteKeyObject per key holds the key and its rate-limit bucket, which every
 * produce under the key asks.
 */
import { KaitenError } from "@kaiten/protocol";
import type { Principal } from "../core/auth/access.ts";
import { newSiteKey, parseSiteKeySpec, type SiteKey, siteKeyId } from "../core/auth/site-keys.ts";
import { auth, type Env, registry, siteKeyStub } from "./env.ts";
import { json, readJson, unwrap } from "./http.ts";

export async function createSiteKey(request: Request, env: Env): Promise<Response> {
  const spec = parseSiteKeySpec(await readJson(request));
  const { id, key } = newSiteKey((n) => crypto.getRandomValues(new Uint8Array(n)));
  const site: SiteKey = { id, key, ...spec, createdAt: Date.now() };
  // The object first: a key listed in the registry always works.
  await siteKeyStub(env, id).configure(site);
  const added = await registry(env).addSiteKey(site, auth(env).limits.maxSiteKeys);
  if (!added.ok) {
    await siteKeyStub(env, id).revoke();
    throw new KaitenError("LIMIT_EXCEEDED", added.message);
  }
  return json(site, 201);
}

export async function listSiteKeys(env: Env): Promise<Response> {
  return json({ siteKeys: await registry(env).listSiteKeys() });
}

export async function deleteSiteKey(env: Env, id: string): Promise<Response> {
  const removed = await registry(env).removeSiteKey(id);
  // Revoked at the object whether or not the list had it: revocation must never half-fail.
  if (/^[a-z0-9]{12}$/.test(id)) await siteKeyStub(env, id).revoke();
  if (!removed) throw new KaitenError("NOT_FOUND", `no site key "${id}"`);
  return json({ deleted: id });
}

/** Admits `records` records to `topic` under the principal's site key, or throws why not. */
export async function admitSiteKey(
  env: Env,
  who: Extract<Principal, { kind: "site-key" }>,
  topic: string,
  records: number,
): Promise<void> {
  const id = siteKeyId(who.key);
  if (!id) throw new KaitenError("UNAUTHENTICATED", "the key is not a site key");
  unwrap(await siteKeyStub(env, id).admit({ key: who.key, origin: who.origin, topic, records }));
}
