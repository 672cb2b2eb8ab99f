/**
 * The dashboard's files on the Node host (edge/src/node/assets.ts), as wrangler.toml's
 * [assets] serves them on Cloudflare: content types, index.html for the single-page
 * application's paths, immutable caching only for hashed names, ETags, nothing outside.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { Assets, findDashboard, negotiate } from "../../edge/src/node/assets.ts";

const root = mkdtempSync(join(tmpdir(), "kaiten-assets-"));
mkdirSync(join(root, "assets"));
writeFileSync(join(root, "index.html"), "<!doctype html><title>Kaiten</title>");
writeFileSync(join(root, "assets", "index-CbSJ9gH4.js"), "console.log(1)");
writeFileSync(join(root, "assets", "index-CbSJ9gH4.css"), "body{}");
writeFileSync(join(root, "favicon.svg"), "<svg/>");
// A script big enough to be worth compressing (the dashboard's main one is ~350 kB).
const SCRIPT = Array.from({ length: 2000 }, (_, i) => `export const v${i} = ${i * 7};`).join("\n");
writeFileSync(join(root, "assets", "main-D4x9Lk2p.js"), SCRIPT);
writeFileSync(join(root, "_headers"), "/assets/*\n  Cache-Control: immutable\n");
writeFileSync(join(tmpdir(), "kaiten-secret.txt"), "secret");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const assets = new Assets(root);
const get = (path: string, headers: Record<string, string> = {}) =>
  assets.serve(new Request(`http://h${path}`, { headers }));

describe("the dashboard's files", () => {
  it("serves each file with its content type", async () => {
    const js = await get("/assets/index-CbSJ9gH4.js");
    expect([js.status, js.headers.get("content-type")]).toEqual([
      200,
      "text/javascript; charset=utf-8",
    ]);
    expect(await js.text()).toBe("console.log(1)");
    expect((await get("/assets/index-CbSJ9gH4.css")).headers.get("content-type")).toMatch(
      /^text\/css/,
    );
    expect((await get("/favicon.svg")).headers.get("content-type")).toBe("image/svg+xml");
    expect((await get("/")).headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("answers index.html for the dashboard's own paths", async () => {
    for (const path of ["/topics", "/topics/orders", "/groups/workers?x=1"]) {
      const r = await get(path);
      expect([r.status, await r.text()], path).toEqual([
        200,
        "<!doctype html><title>Kaiten</title>",
      ]);
    }
  });

  it("lets hashed files be kept for a year and revalidates the rest", async () => {
    expect((await get("/assets/index-CbSJ9gH4.js")).headers.get("cache-control")).toBe(
      "public, max-age=31536000, immutable",
    );
    expect((await get("/")).headers.get("cache-control")).toBe(
      "public, max-age=0, must-revalidate",
    );
    expect((await get("/favicon.svg")).headers.get("cache-control")).toBe(
      "public, max-age=0, must-revalidate",
    );
  });

  it("answers a missing file under /assets/ with a 404 that nothing keeps, not index.html", async () => {
    const r = await get("/assets/index-doesnotexist.js");
    expect([r.status, r.headers.get("cache-control")]).toEqual([404, "no-store"]);
    expect(await r.text()).not.toContain("<!doctype");
  });

  it("never serves Cloudflare's _headers file (the dashboard's index instead, as there)", async () => {
    expect(await (await get("/_headers")).text()).toBe("<!doctype html><title>Kaiten</title>");
  });

  it("answers 304 to a matching If-None-Match", async () => {
    const etag = (await get("/favicon.svg")).headers.get("etag") as string;
    expect((await get("/favicon.svg", { "if-none-match": etag })).status).toBe(304);
  });

  it("never serves a file outside its folder", async () => {
    for (const path of [
      "/../kaiten-secret.txt",
      "/%2e%2e/kaiten-secret.txt",
      "/assets/..%2f..%2fkaiten-secret.txt",
    ]) {
      expect(await (await get(path)).text(), path).not.toContain("secret");
    }
  });

  it("refuses methods other than GET and HEAD", async () => {
    expect((await assets.serve(new Request("http://h/", { method: "POST" }))).status).toBe(405);
  });

  describe("compression", () => {
    const MAIN = "/assets/main-D4x9Lk2p.js";
    const bytes = async (r: Response) => Buffer.from(await r.arrayBuffer());

    it("sends brotli or gzip to a client that accepts it, and the same bytes once decoded", async () => {
      const br = await get(MAIN, { "accept-encoding": "gzip, deflate, br, zstd" });
      expect(br.headers.get("content-encoding")).toBe("br");
      const brBody = await bytes(br);
      expect(brBody.length).toBeLessThan(SCRIPT.length / 3);
      expect(brotliDecompressSync(brBody).toString()).toBe(SCRIPT);
      const gz = await get(MAIN, { "accept-encoding": "gzip" });
      expect(gz.headers.get("content-encoding")).toBe("gzip");
      expect(gunzipSync(await bytes(gz)).toString()).toBe(SCRIPT);
      for (const r of [br, gz]) {
        expect(r.headers.get("vary")).toBe("Accept-Encoding");
        expect(r.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      }
    });

    it("sends the file as it is to a client that accepts neither, still saying the answer varies", async () => {
      for (const accept of [undefined, "identity", "deflate", "gzip;q=0, br;q=0", "*;q=0"]) {
        const r = await get(MAIN, accept === undefined ? {} : { "accept-encoding": accept });
        expect(r.headers.get("content-encoding"), accept).toBeNull();
        expect(r.headers.get("vary")).toBe("Accept-Encoding");
        expect((await bytes(r)).toString()).toBe(SCRIPT);
      }
    });

    it("gives each encoding its own ETag and Content-Length, and a 304 only for the one the client holds", async () => {
      const plain = await get(MAIN, { "accept-encoding": "identity" });
      const gzHead = await assets.serve(
        new Request(`http://h${MAIN}`, { method: "HEAD", headers: { "accept-encoding": "gzip" } }),
      );
      const gz = await get(MAIN, { "accept-encoding": "gzip" });
      const tags = new Set([plain, gzHead, gz].map((r) => r.headers.get("etag")));
      expect(tags.size).toBe(2);
      expect(gzHead.headers.get("etag")).toBe(gz.headers.get("etag"));
      expect(Number(gzHead.headers.get("content-length"))).toBe((await bytes(gz)).length);
      const gzTag = gz.headers.get("etag") as string;
      const again = await get(MAIN, { "accept-encoding": "gzip", "if-none-match": gzTag });
      expect([again.status, again.headers.get("content-encoding")]).toEqual([304, "gzip"]);
      const other = await get(MAIN, { "accept-encoding": "identity", "if-none-match": gzTag });
      expect(other.status).toBe(200);
      const listed = await get(MAIN, {
        "accept-encoding": "gzip",
        "if-none-match": `"x", W/${gzTag}`,
      });
      expect(listed.status).toBe(304);
    });

    it("compresses each file once, not at every request", async () => {
      const first = await bytes(await get(MAIN, { "accept-encoding": "br" }));
      const second = await bytes(await get(MAIN, { "accept-encoding": "br" }));
      expect(second.equals(first)).toBe(true);
      const served = new Assets(root);
      const answers = await Promise.all(
        Array.from({ length: 5 }, () =>
          served.serve(new Request(`http://h${MAIN}`, { headers: { "accept-encoding": "br" } })),
        ),
      );
      const encoded = (
        served as unknown as { cache: Map<string, { encoded: Map<string, unknown> }> }
      ).cache;
      expect([...encoded.values()].map((a) => a.encoded.size)).toEqual([1]);
      expect(new Set(answers.map((r) => r.headers.get("etag"))).size).toBe(1);
    });

    it("leaves small files and images alone", async () => {
      const svg = await get("/favicon.svg", { "accept-encoding": "gzip, br" });
      expect([svg.headers.get("content-encoding"), svg.headers.get("vary")]).toEqual([null, null]);
    });

    it("reads Accept-Encoding's q-values", () => {
      expect(negotiate("gzip, deflate, br")).toBe("br");
      expect(negotiate("br;q=0, gzip;q=0.5")).toBe("gzip");
      expect(negotiate("*")).toBe("br");
      expect(negotiate("br;q=0, *")).toBe("gzip");
      expect(negotiate("GZIP")).toBe("gzip");
      expect(negotiate("identity")).toBeNull();
      expect(negotiate("")).toBeNull();
      expect(negotiate(null)).toBeNull();
    });
  });

  it("finds the repository's built dashboard", () => {
    expect(findDashboard()).toMatch(/dashboard[/\\]dist$/);
  });
});
