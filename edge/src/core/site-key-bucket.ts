/**
 * One site key's spec and rate-limit bucket (SiteKeyPort, PROTOCOL.md §15.5). Every produce
 * under the key asks its bucket, so the limit holds across all of a host's workers and
 * revocation takes effect at the next request. The spec is persisted through a tiny
 * key-value store the host provides (Durable Object storage, a SQLite table on Node); the
 * bucket is kept in memory: after a restart the key starts again with a full burst.
 */
import { KaitenError } from "@kaiten/protocol";
import { type Admission, admit, type Bucket, type SiteKey } from "./auth/site-keys.ts";
import { type RpcResult, rpcError, type SiteKeyPort } from "./port.ts";
import type { Log } from "./types.ts";

/** Where one site key's spec is kept (one bucket per store). */
export interface SiteKeyStore {
  get(): Promise<SiteKey | null>;
  put(site: SiteKey): Promise<void>;
  /** Forgets the spec. */
  clear(): Promise<void>;
}

export class SiteKeyBucket implements SiteKeyPort {
  private site: SiteKey | null = null;
  private bucket: Bucket = { tokens: 0, at: 0 };

  constructor(
    private readonly store: SiteKeyStore,
    private readonly now: () => number,
    /** Where log lines go (console.error). */
    private readonly log: Log,
  ) {}

  /** Reads the stored spec; call once before the first request (the DO's blockConcurrencyWhile). */
  async load(): Promise<void> {
    this.site = await this.store.get();
    if (this.site) this.bucket = { tokens: this.site.burst, at: this.now() };
  }

  async configure(site: SiteKey): Promise<void> {
    await this.guard(`${site.id}: configure`, () => this.store.put(site));
    this.site = site;
    this.bucket = { tokens: site.burst, at: this.now() };
  }

  async revoke(): Promise<void> {
    await this.guard(`${this.site?.id ?? "(unconfigured)"}: revoke`, () => this.store.clear());
    this.site = null;
  }

  async admit(a: Admission): Promise<RpcResult<null>> {
    try {
      admit(this.site, this.bucket, a, this.now());
      return { ok: true, value: null };
    } catch (error) {
      if (!(error instanceof KaitenError))
        this.log(`[kaiten:site-key] ${this.site?.id ?? "(unconfigured)"}: admit failed`, error);
      return { ok: false, error: rpcError(error) };
    }
  }

  /** A storage failure is logged, then thrown: the caller must not think the key stored. */
  private async guard(what: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.log(`[kaiten:site-key] ${what} failed`, error);
      throw error;
    }
  }
}
