/**
 * The Worker: the HTTP API of the core (core/http/api.ts) over the Durable Object stubs
 * (port.ts), and the WebSocket upgrade, which needs the Workers runtime's WebSocketPair.
 */
import { ErrorCode, errorFrame, type KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import { type HttpHost, handleHttp, prepareSocket } from "../core/http/api.ts";
import { isBuildFile, missingBuildFile } from "../core/http/dashboard.ts";
import { asKaitenError } from "../core/partition.ts";
import { type Env, partitionStub } from "./env.ts";
import { cloudflarePort, workerHooks } from "./port.ts";

export { GroupObject } from "./group-object.ts";
export { PartitionObject } from "./partition-object.ts";
export { SiteKeyObject } from "./site-key-object.ts";
export { TopicRegistry } from "./topic-registry.ts";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (env.ASSETS && path !== "/v1" && !path.startsWith("/v1/"))
      return dashboardMiss(request, env.ASSETS, path);
    const host: HttpHost = { ...workerHooks, upgrade: () => openSocket(request, env) };
    // The core's Response is this runtime's own (core/http/web.ts takes it from globalThis).
    return (await handleHttp(request, cloudflarePort(env), host)) as Response;
  },
} satisfies ExportedHandler<Env>;

/**
 * A path outside /v1 that no file of the dashboard answers (wrangler.toml's [assets] sends
 * those here, `not_found_handling = "none"`). Under /assets/ it is a build file that is not
 * there, such as an older deploy's script asked for by a page loaded before this deploy: a
 * 404 that no cache keeps, never index.html, which /assets/*'s rule in _headers would let a
 * browser keep as that script for a year. Any other path is one of the dashboard's pages:
 * its index.html, as `single-page-application` serves it (revalidated, with its ETag).
 */
function dashboardMiss(
  request: Request,
  assets: Fetcher,
  path: string,
): Promise<Response> | Response {
  if (isBuildFile(path)) return missingBuildFile() as Response;
  const index = new URL("/", request.url);
  return assets.fetch(new Request(index, { method: request.method, headers: request.headers }));
}

/**
 * Hands the WebSocket to the partition's object with what the socket may do (its grant). A
 * request that cannot be served is still accepted and then closed with an ERROR frame and
 * close code 4000 + the error's number, so a browser (which cannot read an HTTP error of a
 * failed upgrade) learns why (§9, §15.3).
 */
async function openSocket(request: Request, env: Env): Promise<Response> {
  try {
    const s = await prepareSocket(request, cloudflarePort(env), workerHooks);
    const forward = new Request(request);
    // Both headers are always set here, never taken from the client: the object trusts them.
    forward.headers.set("x-kaiten-ref", JSON.stringify(s.ref));
    forward.headers.set("x-kaiten-grant", JSON.stringify(s.grant));
    return await partitionStub(env, s.topic.name, s.partition).fetch(forward);
  } catch (error) {
    return refuseSocket(request, asKaitenError(error));
  }
}

function refuseSocket(request: Request, e: KaitenError): Response {
  const pair = new WebSocketPair();
  const server = pair[1];
  server.accept();
  server.send(errorFrame(0, e));
  server.close(4000 + ErrorCode[e.code], e.code);
  const offered = request.headers.get("sec-websocket-protocol");
  const headers = offered?.includes(SUBPROTOCOL)
    ? { "Sec-WebSocket-Protocol": SUBPROTOCOL }
    : undefined;
  return new Response(null, { status: 101, webSocket: pair[0], headers });
}
