/**
 * The dashboard's files on the Node host (edge/src/node/assets.ts), as wrangler.toml's
 * [assets] serves them on Cloudflare: content types, index.html for the single-page
 * application's paths, immutable caching only for hashed names, ETags, nothing outside.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Assets, findDashboard } from "../../edge/src/node/assets.ts";

const root = mkdtempSync(join(tmpdir(), "kaiten-assets-"));
mkdirSync(join(root, "assets"));
writeFileSync(join(root, "index.html"), "<!doctype html><title>Kaiten</title>");
writeFileSync(join(root, "assets", "index-CbSJ9gH4.js"), "console.log(1)");
writeFileSync(join(root, "assets", "index-CbSJ9gH4.css"), "body{}");
writeFileSync(join(root, "favicon.svg"), "<svg/>");
writeFileSync(join(root, "_headers"), "/assets/*\n  Cache-Control: immutable\n");
writeFileSync(join(tmpdir(), "kaiten-secret.txt"), "secret");
afterAll(() => rmSync(root, { recursive: true, force: true }));

const assets = new Assets(root);
const get = (path: string, headers: Record<string, string> = {}) =>
  assets.serve(new Request(`http://h${path}`, { headers }));

describe("the dashboard's files", () => {
  it("serves each file with its content type", async () => {
    const js = get("/assets/index-CbSJ9gH4.js");
    expect([js.status, js.headers.get("content-type")]).toEqual([
      200,
      "text/javascript; charset=utf-8",
    ]);
    expect(await js.text()).toBe("console.log(1)");
    expect(get("/assets/index-CbSJ9gH4.css").headers.get("content-type")).toMatch(/^text\/css/);
    expect(get("/favicon.svg").headers.get("content-type")).toBe("image/svg+xml");
    expect(get("/").headers.get("content-type")).toMatch(/^text\/html/);
  });

  it("answers index.html for the dashboard's own paths", async () => {
    for (const path of ["/topics", "/topics/orders", "/groups/workers?x=1"]) {
      const r = get(path);
      expect([r.status, await r.text()], path).toEqual([
        200,
        "<!doctype html><title>Kaiten</title>",
      ]);
    }
  });

  it("lets hashed files be kept for a year and revalidates the rest", () => {
    expect(get("/assets/index-CbSJ9gH4.js").headers.get("cache-control")).toBe(
      "public, max-age=31536000, immutable",
    );
    expect(get("/").headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    expect(get("/favicon.svg").headers.get("cache-control")).toBe(
      "public, max-age=0, must-revalidate",
    );
  });

  it("answers a missing file under /assets/ with a 404 that nothing keeps, not index.html", async () => {
    const r = get("/assets/index-doesnotexist.js");
    expect([r.status, r.headers.get("cache-control")]).toEqual([404, "no-store"]);
    expect(await r.text()).not.toContain("<!doctype");
  });

  it("never serves Cloudflare's _headers file (the dashboard's index instead, as there)", async () => {
    expect(await get("/_headers").text()).toBe("<!doctype html><title>Kaiten</title>");
  });

  it("answers 304 to a matching If-None-Match", () => {
    const etag = get("/favicon.svg").headers.get("etag") as string;
    expect(get("/favicon.svg", { "if-none-match": etag }).status).toBe(304);
  });

  it("never serves a file outside its folder", async () => {
    for (const path of [
      "/../kaiten-secret.txt",
      "/%2e%2e/kaiten-secret.txt",
      "/assets/..%2f..%2fkaiten-secret.txt",
    ]) {
      expect(await get(path).text(), path).not.toContain("secret");
    }
  });

  it("refuses methods other than GET and HEAD", () => {
    expect(assets.serve(new Request("http://h/", { method: "POST" })).status).toBe(405);
  });

  it("finds the repository's built dashboard", () => {
    expect(findDashboard()).toMatch(/dashboard[/\\]dist$/);
  });
});
