/**
 * Site keys (docs/PROTOCOL.md §15.5): public, produce-only keys for tracking snippets, bound
 * to origins, topics and a rate. Every refusal has its documented status, and afterwards
 * the stored records are exactly those of the accepted requests.
 */
import { StartFrom } from "@kaiten/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { bearer, jwtVars, mint, testKeys } from "../lib/auth.ts";
import { useBroker } from "../lib/broker.ts";
import { Connection, jsonRecord, type ProtocolError } from "../lib/client.ts";
import { call, type ErrorBody, postJson, readPartition } from "../lib/http.ts";
import { brokerOf, type HostUnderTest } from "./hosts.ts";

const keys = await testKeys();

export function authSiteKeysSuite(host: HostUnderTest): void {
  describe(`site keys on ${host.name}`, () => {
    const broker = useBroker(brokerOf(host, jwtVars(keys, { KAITEN_MAX_SITE_KEYS: "3" })));
    const url = () => broker().url;
    const SITE = "https://shop.example";

    let admin: string;
    let key: string;
    let keyId: string;
    let accepted = 0;

    interface SiteKeyBody {
      id: string;
      key: string;
      origins: string[];
      topics: string[];
      recordsPerSecond: number;
      burst: number;
    }

    beforeAll(async () => {
      admin = await mint({ scope: "admin" });
      for (const name of ["clicks", "private"])
        expect((await postJson(`${url()}/v1/topics`, { name }, bearer(admin))).status).toBe(201);
      const created = await postJson<SiteKeyBody>(
        `${url()}/v1/site-keys`,
        {
          origins: [SITE, "https://*.example.org"],
          topics: ["clicks"],
          recordsPerSecond: 5,
          burst: 20,
        },
        bearer(admin),
      );
      expect(created.status).toBe(201);
      ({ key, id: keyId } = created.body);
    });

    async function beacon(records: number, origin: string | null, topic = "clicks", k = key) {
      const r = await call<ErrorBody>(`${url()}/v1/topics/${topic}/records?key=${k}`, {
        method: "POST",
        // sendBeacon sends text/plain; a page's Origin header comes with it.
        headers: { "content-type": "text/plain", ...(origin ? { origin } : {}) },
        body: JSON.stringify({
          records: Array.from({ length: records }, (_, i) => ({ value: i })),
        }),
      });
      if (r.status === 200) accepted += records;
      return r;
    }

    const codeOf = (r: { body: unknown }) => (r.body as ErrorBody).error.code;

    describe("§15.5 site keys", () => {
      it("produces from an allowed origin, exact or a subdomain of a wildcard", async () => {
        expect((await beacon(2, SITE)).status).toBe(200);
        expect((await beacon(1, "https://blog.example.org")).status).toBe(200);
      });

      it("refuses another origin, no origin, and a wildcard's bare domain", async () => {
        for (const origin of [
          "https://evil.example",
          "http://shop.example",
          "https://example.org",
          null,
        ]) {
          const r = await beacon(1, origin);
          expect([r.status, codeOf(r)], String(origin)).toEqual([403, "FORBIDDEN"]);
        }
      });

      it("refuses another topic", async () => {
        const r = await beacon(1, SITE, "private");
        expect([r.status, codeOf(r)]).toEqual([403, "FORBIDDEN"]);
      });

      it("never reads, lists, describes, creates or administers", async () => {
        const asKey = { headers: { origin: SITE } };
        const reads = [
          `/v1/topics/clicks/partitions/0/records?key=${key}`,
          `/v1/topics?key=${key}`,
          `/v1/topics/clicks?key=${key}`,
          `/v1/site-keys?key=${key}`,
        ];
        for (const path of reads) {
          const r = await call(`${url()}${path}`, asKey);
          expect([r.status, codeOf(r)], path).toEqual([403, "FORBIDDEN"]);
        }
        const create = await postJson(
          `${url()}/v1/topics?key=${key}`,
          { name: "x" },
          { origin: SITE },
        );
        expect([create.status, codeOf(create)]).toEqual([403, "FORBIDDEN"]);
      });

      it("opens a produce-only WebSocket that cannot subscribe", async () => {
        const c = await Connection.open(url(), "clicks", 0, {
          query: { key },
          headers: { origin: SITE },
        });
        expect((await c.produce([jsonRecord("over ws")])).count).toBe(1);
        accepted += 1;
        const refused = await c.subscribe({ from: StartFrom.Earliest }).catch((e) => e);
        expect((refused as ProtocolError).frame.code).toBe("FORBIDDEN");
        await c.close();
      });

      it("counts every record of a WebSocket batch against the key's rate", async () => {
        // 1 record/s, a burst of 4: a batch of 3 leaves 1, so the next batch of 3 must wait.
        // Counted as one produce each (not per record), both would be admitted.
        const spec = { origins: [SITE], topics: ["clicks"], recordsPerSecond: 1, burst: 4 };
        const slow = (await postJson<SiteKeyBody>(`${url()}/v1/site-keys`, spec, bearer(admin)))
          .body;
        const c = await Connection.open(url(), "clicks", 0, {
          query: { key: slow.key },
          headers: { origin: SITE },
        });
        try {
          const three = () => [jsonRecord(1), jsonRecord(2), jsonRecord(3)];
          expect((await c.produce(three())).count).toBe(3);
          accepted += 3;
          const refused = await c.produce(three()).catch((e) => e);
          if (!(refused instanceof Error)) accepted += 3;
          expect((refused as ProtocolError).frame.code).toBe("THROTTLED");
        } finally {
          await c.close();
          await call(`${url()}/v1/site-keys/${slow.id}`, {
            method: "DELETE",
            headers: bearer(admin),
          });
        }
      });

      it("refuses a WebSocket from another origin with 4026", async () => {
        const c = await Connection.open(url(), "clicks", 0, {
          query: { key },
          headers: { origin: "https://evil.example" },
        });
        expect((await c.closed).code).toBe(4026);
      });

      it("answers 429 with Retry-After over its rate, and admits again after the wait", async () => {
        // A key of its own, 2 records/s with a burst of 4: a full bucket admits 4 and is then
        // empty, so the next 4 must wait 2 s. Sent back to back until one is refused, so a slow
        // machine (a bucket refilled between two requests) only costs another round.
        const spec = { origins: [SITE], topics: ["clicks"], recordsPerSecond: 2, burst: 4 };
        const slow = (await postJson<SiteKeyBody>(`${url()}/v1/site-keys`, spec, bearer(admin)))
          .body;
        let refused: Awaited<ReturnType<typeof beacon>> | null = null;
        for (let i = 0; i < 6 && !refused; i++) {
          const r = await beacon(4, SITE, "clicks", slow.key);
          if (r.status !== 200) refused = r;
        }
        expect(refused && [refused.status, codeOf(refused)]).toEqual([429, "THROTTLED"]);
        const wait = Number(refused?.headers.get("retry-after"));
        expect(wait).toBeGreaterThanOrEqual(1);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 200));
        expect((await beacon(4, SITE, "clicks", slow.key)).status).toBe(200);
        await call(`${url()}/v1/site-keys/${slow.id}`, {
          method: "DELETE",
          headers: bearer(admin),
        });
      });

      it("is listed for admin only, and refuses keys past KAITEN_MAX_SITE_KEYS", async () => {
        const list = await call<{ siteKeys: SiteKeyBody[] }>(`${url()}/v1/site-keys`, {
          headers: bearer(admin),
        });
        expect(list.body.siteKeys.map((k) => k.id)).toEqual([keyId]);
        const user = await call(`${url()}/v1/site-keys`, {
          headers: bearer(await mint({ scope: "produce:*" })),
        });
        expect(user.status).toBe(403);
        const spec = { origins: [SITE], topics: ["clicks"] };
        for (let i = 0; i < 2; i++)
          expect((await postJson(`${url()}/v1/site-keys`, spec, bearer(admin))).status).toBe(201);
        const over = await postJson(`${url()}/v1/site-keys`, spec, bearer(admin));
        expect([over.status, codeOf(over)]).toEqual([403, "LIMIT_EXCEEDED"]);
      });

      it("refuses a malformed spec with 400", async () => {
        for (const spec of [
          { origins: ["shop.example"], topics: ["clicks"] },
          { origins: [SITE], topics: [] },
          { origins: [SITE], topics: ["clicks"], burst: 0 },
        ]) {
          const r = await postJson(`${url()}/v1/site-keys`, spec, bearer(admin));
          expect([r.status, codeOf(r)], JSON.stringify(spec)).toEqual([400, "INVALID_REQUEST"]);
        }
      });

      it("stops working at once when revoked", async () => {
        const del = await call(`${url()}/v1/site-keys/${keyId}`, {
          method: "DELETE",
          headers: bearer(admin),
        });
        expect(del.status).toBe(200);
        const r = await beacon(1, SITE);
        expect([r.status, codeOf(r)]).toEqual([401, "UNAUTHENTICATED"]);
      });

      it("stored exactly the accepted records", async () => {
        const { records } = await readPartition(url(), "clicks", 0, 0, bearer(admin));
        expect(records).toHaveLength(accepted);
        expect((await readPartition(url(), "private", 0, 0, bearer(admin))).records).toHaveLength(
          0,
        );
      });
    });
  });
}
