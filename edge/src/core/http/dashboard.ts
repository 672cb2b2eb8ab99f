/**
 * What both hosts answer for a path of the dashboard that no file matches (docs/ARCHITECTURE.md):
 * under /assets/ (the build's hashed files, kept a year by browsers) a 404 that nothing caches,
 * never index.html, which a page loaded before a deploy would otherwise keep as an older
 * script; any other path is one of the dashboard's pages, answered with its index.html.
 */
import { Response, type WebResponse } from "./web.ts";

/** Whether a missing file at `path` is a build file (a 404) rather than a page (index.html). */
export function isBuildFile(path: string): boolean {
  return path.startsWith("/assets/");
}

/** The answer to a missing build file. */
export function missingBuildFile(): WebResponse {
  return new Response("not found\n", {
    status: 404,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
  });
}
