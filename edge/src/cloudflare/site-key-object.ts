/**
 * One Durable Object per site key: its spec and its rate-limit bucket (PROTOCOL.md §15.5).
 * Every produce under the key asks this object, so the limit holds across all of the
 * Worker's isolates and revocation takes effect at the next request. The bucket is kept in
 * memory: if the object is evicted or restarts, the key starts again with a full burst.
 */
import { DurableObject } from "cloudflare:workers";
import { type Admission, admit, type Bucket, type SiteKey } from "../core/auth/site-keys.ts";
import type { Env } from "./env.ts";
import { type RpcResult, rpcError } from "./partition-object.ts";

export class SiteKeyObject extends DurableObject<Env> {
  private site: SiteKey | null = null;
  private bucket: Bucket = { tokens: 0, at: 0 };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      this.site = (await ctx.storage.get<SiteKey>("site")) ?? null;
      if (this.site) this.bucket = { tokens: this.site.burst, at: Date.now() };
    });
  }

  async configure(site: SiteKey): Promise<void> {
    await this.ctx.storage.put("site", site);
    this.site = site;
    this.bucket = { tokens: site.burst, at: Date.now() };
  }

  async revoke(): Promise<void> {
    await this.ctx.storage.deleteAll();
    this.site = null;
  }

  async admit(a: Admission): Promise<RpcResult<null>> {
    try {
      admit(this.site, this.bucket, a, Date.now());
      return { ok: true, value: null };
    } catch (error) {
      return { ok: false, error: rpcError(error) };
    }
  }
}
