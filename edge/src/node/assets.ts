/**
 * The dashboard's static files (dashboard/dist, built by `npm run build`) at `/`, as
 * wrangler.toml's [assets] and edge/src/cloudflare/worker.ts serve them on Cloudflare: a
 * missing file under /assets/ is a 404 that nothing caches (never index.html, which a page of
 * an older build asking for its old script would otherwise keep for a year as that script);
 * any other path that is not a file gets index.html, so the dashboard's pages are plain
 * paths; /v1 and below are never assets (`run_worker_first`).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
  ".wasm": "application/wasm",
};

/** Vite names built files `name-<hash>.ext`: their content never changes under that name. */
const HASHED = /-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
/** Cloudflare's default for assets: kept, but checked with the ETag on every use. */
const REVALIDATE = "public, max-age=0, must-revalidate";
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Workers static assets read these and never serve them; neither does the Node host. */
const CONFIG_FILES = new Set(["/_headers", "/_redirects"]);

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  type: string;
  mtimeMs: number;
  size: number;
}

/**
 * The built dashboard next to this file's package: dashboard/dist of the repository, searched
 * upwards from here (this file runs from edge/src/node in tests and from edge/dist-node as
 * the bundle). Null when it was not built.
 */
export function findDashboard(from = dirname(fileURLToPath(import.meta.url))): string | null {
  let dir = from;
  for (;;) {
    const candidate = join(dir, "dashboard", "dist");
    if (existsSync(join(candidate, "index.html"))) return candidate;
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export class Assets {
  private readonly root: string;
  private readonly cache = new Map<string, Asset>();

  constructor(root: string) {
    this.root = resolve(root);
  }

  /** The answer for GET or HEAD of `pathname` (percent-encoded, as in the URL). */
  serve(request: Request): Response {
    if (request.method !== "GET" && request.method !== "HEAD")
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    const pathname = new URL(request.url).pathname;
    const path = this.file(pathname);
    const asset = path ? this.load(path) : null;
    if (!asset && pathname.startsWith("/assets/"))
      return new Response("not found\n", {
        status: 404,
        headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
      });
    // Single-page application: any other path is the dashboard's index.
    const found = asset ?? this.load(join(this.root, "index.html"));
    if (!found) return new Response("dashboard not built: run npm run build\n", { status: 404 });
    const hashed = asset !== null && HASHED.test(path ?? "");
    const headers = {
      "content-type": found.type,
      "cache-control": hashed ? IMMUTABLE : REVALIDATE,
      etag: found.etag,
    };
    if (request.headers.get("if-none-match") === found.etag)
      return new Response(null, { status: 304, headers });
    if (request.method === "HEAD")
      return new Response(null, {
        headers: { ...headers, "content-length": String(found.body.length) },
      });
    return new Response(found.body, { headers });
  }

  /** The file a URL path names inside the root, or null (outside it, or not decodable). */
  private file(pathname: string): string | null {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    // Cloudflare's own configuration files (dashboard/public/_headers) are not served there.
    if (decoded.includes("\0") || CONFIG_FILES.has(decoded)) return null;
    const full = resolve(this.root, `.${decoded}`);
    if (full !== this.root && !full.startsWith(this.root + sep)) return null;
    return full;
  }

  /** A file's bytes, read again when it changed on disk (a rebuilt dashboard). */
  private load(path: string): Asset | null {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      return null;
    }
    if (!stat.isFile()) return null;
    const cached = this.cache.get(path);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached;
    const body = new Uint8Array(readFileSync(path));
    const asset: Asset = {
      body,
      etag: `"${createHash("sha1").update(body).digest("base64url")}"`,
      type: TYPES[extname(path).toLowerCase()] ?? "application/octet-stream",
      mtimeMs: stat.mtimeMs,
      size: stat.size,
    };
    this.cache.set(path, asset);
    return asset;
  }
}
