/**
 * Site-key routes (PROTOCOL.md §15.5): the registry keeps the list (for `GET` and the
 * quota), and one SiteKeyObject per key holds the key and its rate-limit bucket, which every
 * produce under the key asks.
 */
import { KaitenError } from "@kaiten/protocol";
import type { Principal } from "../auth/access.ts";
import { newSiteKey, parseSiteKeySpec, type SiteKey, siteKeyId } from "../auth/site-keys.ts";
import { unwrap } from "../port.ts";
import type { HttpContext } from "./context.ts";
import { json, readJson } from "./json.ts";
import type { WebRequest, WebResponse } from "./web.ts";

export async function createSiteKey(request: WebRequest, ctx: HttpContext): Promise<WebResponse> {
  const spec = parseSiteKeySpec(await readJson(request));
  const { id, key } = newSiteKey(ctx.hooks.randomBytes);
  const site: SiteKey = { id, key, ...spec, createdAt: ctx.hooks.now() };
  // The object first: a key listed in the registry always works.
  await ctx.port.siteKey(id).configure(site);
  const added = await ctx.port
    .registry()
    .addSiteKey(site, ctx.port.settings.auth.limits.maxSiteKeys);
  if (!added.ok) {
    await ctx.port.siteKey(id).revoke();
    throw new KaitenError("LIMIT_EXCEEDED", added.message);
  }
  return json(site, 201);
}

export async function listSiteKeys(ctx: HttpContext): Promise<WebResponse> {
  return json({ siteKeys: await ctx.port.registry().listSiteKeys() });
}

export async function deleteSiteKey(ctx: HttpContext, id: string): Promise<WebResponse> {
  const removed = await ctx.port.registry().removeSiteKey(id);
  // Revoked at the object whether or not the list had it: revocation must never half-fail.
  if (/^[a-z0-9]{12}$/.test(id)) await ctx.port.siteKey(id).revoke();
  if (!removed) throw new KaitenError("NOT_FOUND", `no site key "${id}"`);
  return json({ deleted: id });
}

/** Admits `records` records to `topic` under the principal's site key, or throws why not. */
export async function admitSiteKey(
  ctx: HttpContext,
  who: Extract<Principal, { kind: "site-key" }>,
  topic: string,
  records: number,
): Promise<void> {
  const id = siteKeyId(who.key);
  if (!id) throw new KaitenError("UNAUTHENTICATED", "the key is not a site key");
  unwrap(await ctx.port.siteKey(id).admit({ key: who.key, origin: who.origin, topic, records }));
}
