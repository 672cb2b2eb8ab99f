/**
 * The dashboard's static files (dashboard/dist, built by `npm run build`) at `/`, as
 * wrangler.toml's [assets] and edge/src/cloudflare/worker.ts serve them on Cloudflare: a
 * missing file under /assets/ is a 404 that nothing caches (never index.html, which a page of
 * an older build asking for its old script would otherwise keep for a year as that script);
 * any other path that is not a file gets index.html, so the dashboard's pages are plain
 * paths; /v1 and below are never assets (`run_worker_first`). Text files go out compressed
 * when the request accepts it, as Cloudflare sends them.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { brotliCompress, constants, gzip } from "node:zlib";
import { isBuildFile, missingBuildFile } from "../core/http/dashboard.ts";

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

/**
 * Content encodings the host offers, best first (Cloudflare offers the same two). Each file
 * is compressed once, on its first request that accepts the encoding, in libuv's thread pool
 * (brotli at its best quality takes ~0.4 s for the dashboard's main script: never on the
 * event loop the sockets share), and kept with the file until it changes on disk.
 */
const ENCODINGS = {
  br: promisify(brotliCompress),
  gzip: promisify(gzip),
} as const;
type Encoding = keyof typeof ENCODINGS;
const OPTIONS: Record<Encoding, object> = {
  br: { params: { [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY } },
  gzip: { level: 9 },
};
/** Types worth compressing: text, and the text-based formats of a built dashboard. */
const COMPRESSIBLE = /^(text\/|application\/(json|javascript|manifest\+json|wasm)|image\/svg)/;
/**
 * Files compressed: at least 1 KiB (below, the saving is a few hundred bytes), at most 8 MiB
 * (bigger ones, which a dashboard build does not have, are sent as they are). So the memory
 * kept is at most about the built dashboard's size again, in two encodings.
 */
const MIN_COMPRESS_BYTES = 1024;
const MAX_COMPRESS_BYTES = 8 * 1_048_576;

/** One representation of a file: its bytes as sent and their ETag. */
interface Variant {
  body: Uint8Array<ArrayBuffer>;
  etag: string;
  encoding?: Encoding;
}

interface Asset extends Variant {
  type: string;
  mtimeMs: number;
  size: number;
  /** Sent compressed to clients that accept it (the answer then varies with Accept-Encoding). */
  compressible: boolean;
  /** The compressed representations, made on first use (null: no smaller than the file). */
  encoded: Map<Encoding, Promise<Variant | null>>;
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

  /** The answer to a GET or HEAD (its path percent-encoded, as in the URL). */
  async serve(request: Request): Promise<Response> {
    if (request.method !== "GET" && request.method !== "HEAD")
      return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
    const pathname = new URL(request.url).pathname;
    const path = this.file(pathname);
    const asset = path ? this.load(path) : null;
    if (!asset && isBuildFile(pathname)) return missingBuildFile() as Response;
    // Single-page application: any other path is the dashboard's index.
    const found = asset ?? this.load(join(this.root, "index.html"));
    if (!found) return new Response("dashboard not built: run npm run build\n", { status: 404 });
    const hashed = asset !== null && HASHED.test(path ?? "");
    const encoding = found.compressible && negotiate(request.headers.get("accept-encoding"));
    const sent = (encoding && (await this.encode(found, encoding))) || found;
    const headers: Record<string, string> = {
      "content-type": found.type,
      "cache-control": hashed ? IMMUTABLE : REVALIDATE,
      // Each representation has its own ETag: a cache holding the gzip one must not be told
      // that the brotli one is the same bytes.
      etag: sent.etag,
    };
    if (found.compressible) headers.vary = "Accept-Encoding";
    if (sent.encoding) headers["content-encoding"] = sent.encoding;
    if (matches(request.headers.get("if-none-match"), sent.etag))
      return new Response(null, { status: 304, headers });
    if (request.method === "HEAD")
      return new Response(null, {
        headers: { ...headers, "content-length": String(sent.body.length) },
      });
    return new Response(sent.body, { headers });
  }

  /** The file in `encoding`, compressed on first use; null when that is no smaller. */
  private encode(asset: Asset, encoding: Encoding): Promise<Variant | null> {
    let variant = asset.encoded.get(encoding);
    if (!variant) {
      variant = ENCODINGS[encoding](asset.body, OPTIONS[encoding]).then(
        (out): Variant | null =>
          out.length < asset.body.length
            ? {
                body: new Uint8Array(
                  out.buffer,
                  out.byteOffset,
                  out.length,
                ) as Uint8Array<ArrayBuffer>,
                etag: `${asset.etag.slice(0, -1)}-${encoding}"`,
                encoding,
              }
            : null,
        // Sent as it is; compressing it is not tried again for this version of the file.
        () => null,
      );
      asset.encoded.set(encoding, variant);
    }
    return variant;
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
    const type = TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
    const asset: Asset = {
      body,
      etag: `"${createHash("sha1").update(body).digest("base64url")}"`,
      type,
      mtimeMs: stat.mtimeMs,
      size: stat.size,
      compressible:
        COMPRESSIBLE.test(type) &&
        body.length >= MIN_COMPRESS_BYTES &&
        body.length <= MAX_COMPRESS_BYTES,
      encoded: new Map(),
    };
    this.cache.set(path, asset);
    return asset;
  }
}

/**
 * The best encoding an Accept-Encoding header allows (RFC 9110 §12.5.3): brotli, then gzip,
 * each when named (or matched by `*`) with a q-value above 0; else none (identity).
 */
export function negotiate(header: string | null): Encoding | null {
  const q = new Map<string, number>();
  for (const item of (header ?? "").toLowerCase().split(",")) {
    const [name = "", ...params] = item.split(";").map((p) => p.trim());
    const weight = params.find((p) => p.startsWith("q="));
    if (name) q.set(name, weight ? Number(weight.slice(2)) : 1);
  }
  for (const encoding of Object.keys(ENCODINGS) as Encoding[]) {
    const weight = q.get(encoding) ?? q.get("*") ?? 0;
    if (weight > 0) return encoding;
  }
  return null;
}

/** Whether an If-None-Match header names this ETag (weak comparison, RFC 9110 §13.1.2). */
function matches(header: string | null, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === "*") return true;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
