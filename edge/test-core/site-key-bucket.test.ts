/** The core's SiteKeyBucket (SiteKeyPort, PROTOCOL.md §15.5) over a key-value store in memory. */
import { describe, expect, it } from "vitest";
import type { SiteKey } from "../src/core/auth/site-keys.ts";
import { SiteKeyBucket, type SiteKeyStore } from "../src/core/site-key-bucket.ts";
import { logSink } from "./fakes.ts";

const site: SiteKey = {
  id: "aaaaaaaaaaaa",
  key: `pk_aaaaaaaaaaaa_${"x".repeat(24)}`,
  createdAt: 0,
  origins: ["https://a.example"],
  topics: ["clicks"],
  recordsPerSecond: 1,
  burst: 2,
};
const admission = { key: site.key, origin: "https://a.example", topic: "clicks", records: 1 };

function memoryStore(): SiteKeyStore & { value: SiteKey | null } {
  const store = {
    value: null as SiteKey | null,
    get: async () => store.value,
    put: async (s: SiteKey) => {
      store.value = s;
    },
    clear: async () => {
      store.value = null;
    },
  };
  return store;
}

describe("site key bucket", () => {
  it("admits up to the burst, then answers THROTTLED with the wait as data", async () => {
    let now = 1_000;
    const b = new SiteKeyBucket(memoryStore(), () => now, logSink().log);
    await b.configure(site);
    expect(await b.admit(admission)).toEqual({ ok: true, value: null });
    expect(await b.admit(admission)).toEqual({ ok: true, value: null });
    expect(await b.admit(admission)).toMatchObject({
      ok: false,
      error: { code: "THROTTLED", detail: 1000 },
    });
    now += 1_000;
    expect(await b.admit(admission)).toEqual({ ok: true, value: null });
  });

  it("refuses every produce once revoked, and an unknown key before it is configured", async () => {
    const b = new SiteKeyBucket(memoryStore(), () => 0, logSink().log);
    expect(await b.admit(admission)).toMatchObject({
      ok: false,
      error: { code: "UNAUTHENTICATED" },
    });
    await b.configure(site);
    await b.revoke();
    expect(await b.admit(admission)).toMatchObject({
      ok: false,
      error: { code: "UNAUTHENTICATED" },
    });
  });

  it("keeps the spec across a restart, with a full burst again", async () => {
    const store = memoryStore();
    await new SiteKeyBucket(store, () => 0, logSink().log).configure(site);
    const restarted = new SiteKeyBucket(store, () => 0, logSink().log);
    await restarted.load();
    expect(await restarted.admit({ ...admission, records: 2 })).toEqual({ ok: true, value: null });
    expect(await restarted.admit({ ...admission, origin: "https://b.example" })).toMatchObject({
      ok: false,
      error: { code: "FORBIDDEN" },
    });
  });

  it("logs a storage failure naming the key and does not take the new spec", async () => {
    const sink = logSink();
    const store = memoryStore();
    store.put = async () => {
      throw new Error("disk full");
    };
    const b = new SiteKeyBucket(store, () => 0, sink.log);
    await expect(b.configure(site)).rejects.toThrow("disk full");
    expect(sink.lines.map((l) => l.line)).toEqual([
      "[kaiten:site-key] aaaaaaaaaaaa: configure failed",
    ]);
    expect(await b.admit(admission)).toMatchObject({
      ok: false,
      error: { code: "UNAUTHENTICATED" },
    });
  });
});
