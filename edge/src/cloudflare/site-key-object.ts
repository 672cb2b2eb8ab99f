/**
 * One Durable Object per site key: a thin adapter over the core's SiteKeyBucket (its spec
 * and rate-limit bucket, PROTOCOL.md §15.5), with the spec kept in the object's storage.
 * Every produce under the key asks this object, so the limit holds across all of the
 * Worker's isolates and revocation takes effect at the next request.
 */
import { DurableObject } from "cloudflare:workers";
import type { Admission, SiteKey } from "../core/auth/site-keys.ts";
import type { RpcResult, SiteKeyPort } from "../core/port.ts";
import { SiteKeyBucket } from "../core/site-key-bucket.ts";
import type { Env } from "./env.ts";

export class SiteKeyObject extends DurableObject<Env> implements SiteKeyPort {
  private readonly bucket: SiteKeyBucket;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const storage = ctx.storage;
    this.bucket = new SiteKeyBucket(
      {
        get: async () => (await storage.get<SiteKey>("site")) ?? null,
        put: (site) => storage.put("site", site),
        clear: () => storage.deleteAll(),
      },
      Date.now,
      console.error,
    );
    ctx.blockConcurrencyWhile(() => this.bucket.load());
  }

  async configure(site: SiteKey): Promise<void> {
    return this.bucket.configure(site);
  }

  async revoke(): Promise<void> {
    return this.bucket.revoke();
  }

  async admit(a: Admission): Promise<RpcResult<null>> {
    return this.bucket.admit(a);
  }
}
