/**
 * The HTTP API on every host (docs/PROTOCOL.md §11–§18) as WHATWG `Request` → `Response`
 * against the broker port: routing, rights checks, CORS and error bodies. Every route's
 * errors become a documented code (§8). The host keeps only the WebSocket upgrade, which
 * it does after `prepareSocket` (socket.ts).
 */
import { KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import {
  authenticate,
  describePrincipal,
  type Principal,
  requireAdmin,
  requireRight,
  rightsOf,
} from "../auth/access.ts";
import { NOT_CONFIGURED_MESSAGE } from "../auth/jwt.ts";
import { touches } from "../auth/rights.ts";
import { asKaitenError } from "../partition.ts";
import { partitionNumber, topicName } from "../paths.ts";
import type { BrokerPort } from "../port.ts";
import { credentials, mayCreate } from "./access.ts";
import { contextOf, type HttpContext, type HttpHooks } from "./context.ts";
import { STREAM_PATH, streamRoute } from "./durable-streams.ts";
import { groupRoute, isGroupPath } from "./groups.ts";
import { errorResponse, json } from "./json.ts";
import { partitionRead } from "./live.ts";
import { admitSiteKey, createSiteKey, deleteSiteKey, listSiteKeys } from "./site-keys.ts";
import { PARTITION_PATH } from "./socket.ts";
import { listTopicPage } from "./topic-list.ts";
import { createTopic, deleteTopic, describeTopic, produce } from "./topic-routes.ts";
import { Response, URL, type WebRequest, type WebResponse } from "./web.ts";

export type { HttpHooks } from "./context.ts";
export { prepareSocket, type SocketAdmission } from "./socket.ts";

/** A host's part in answering HTTP: its clock, randomness and log, and its WebSocket upgrade. */
export interface HttpHost extends HttpHooks {
  /**
   * Answers a GET with `Upgrade: websocket` on `/v1/topics/{t}/partitions/{p}/ws`: the host
   * calls `prepareSocket` and hands the socket over, or refuses it over the socket (§9).
   * A response of status 101 is returned as it is, without CORS headers.
   */
  upgrade(request: WebRequest): Promise<WebResponse>;
}

// Bearer tokens, not cookies, carry rights, so any origin may call; site keys check the
// Origin themselves (PROTOCOL.md §15.5).
// The Durable Streams headers (PROTOCOL.md §18) and the conditional and resuming read headers
// (§17) are allowed and exposed too.
const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers":
    "content-type, authorization, if-none-match, last-event-id, stream-seq, stream-ttl, stream-expires-at, stream-closed, stream-forked-from, stream-fork-offset, stream-fork-sub-offset, producer-id, producer-epoch, producer-seq",
  "access-control-expose-headers":
    "retry-after, etag, location, stream-next-offset, stream-cursor, stream-up-to-date, stream-closed, stream-ttl, stream-expires-at, stream-sse-data-encoding, producer-epoch, producer-seq, producer-expected-seq, producer-received-seq",
  "access-control-max-age": "86400",
};

const TOPIC_PATH = /^\/v1\/topics\/([^/]+)(\/records)?$/;
const SITE_KEY_PATH = /^\/v1\/site-keys\/([^/]+)$/;

/** Answers one HTTP request; never throws (an unexpected failure is logged and answered 500). */
export async function handleHttp(
  request: WebRequest,
  port: BrokerPort,
  host: HttpHost,
): Promise<WebResponse> {
  if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
  let response: WebResponse;
  try {
    response = await route(request, contextOf(port, host), host);
  } catch (error) {
    if (!(error instanceof KaitenError)) host.log("[kaiten:http] request failed", error);
    response = errorResponse(asKaitenError(error));
  }
  if (response.status === 101) return response;
  const withCors = new Response(response.body, response);
  for (const [k, v] of Object.entries(CORS)) withCors.headers.set(k, v);
  return withCors;
}

async function route(request: WebRequest, ctx: HttpContext, host: HttpHost): Promise<WebResponse> {
  const url = new URL(request.url);
  const path = url.pathname;
  const method = request.method;
  const p = PARTITION_PATH.exec(path);
  // A WebSocket checks its rights itself, so that a refusal reaches a browser (§9, §15.3).
  if (p?.[3] === "ws") return method === "GET" ? upgrade(request, host) : notAllowed();
  // "/" is the dashboard (static assets, wrangler.toml); the broker describes itself at /v1.
  if (path === "/v1") return describeBroker(ctx);
  const auth = ctx.port.settings.auth;
  const who = await authenticate(credentials(request, url), auth);
  const t = TOPIC_PATH.exec(path);
  // A site key is public: it produces records and is refused everywhere else (§15.5).
  if (who.kind === "site-key" && !(t?.[2] && method === "POST"))
    throw new KaitenError("FORBIDDEN", "a site key can only produce records");
  if (path === "/v1/auth") return json(describePrincipal(who, auth));
  if (path === "/v1/topics") {
    if (method === "GET") return listTopicPage(ctx, url, (name) => touches(rightsOf(who), name));
    requireAdmin(who);
    if (method === "POST") return createTopic(request, ctx);
    return notAllowed();
  }
  if (path === "/v1/site-keys" || SITE_KEY_PATH.test(path)) return siteKeyRoute(request, ctx, who);
  if (isGroupPath(path)) return groupRoute(request, ctx, who);
  const s = STREAM_PATH.exec(path);
  if (s) return streamRoute(request, ctx, who, s[1] as string);
  if (p) {
    const topic = topicName(p[1] as string);
    requireRight(who, "subscribe", topic);
    if (method !== "GET") return notAllowed();
    const expiresAt = who.kind === "token" ? who.expiresAt : 0;
    const partition = partitionNumber(p[2] as string);
    return partitionRead(request, { url, ctx, topic, partition, expiresAt });
  }
  if (t) return topicRoute(request, ctx, who, topicName(t[1] as string), Boolean(t[2]));
  throw new KaitenError("NOT_FOUND", `no route for ${method} ${path}`);
}

function upgrade(request: WebRequest, host: HttpHost): Promise<WebResponse> | WebResponse {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse(new KaitenError("INVALID_REQUEST", "expected a WebSocket upgrade"), 426);
  }
  return host.upgrade(request);
}

function describeBroker(ctx: HttpContext): WebResponse {
  const settings = ctx.port.settings.auth;
  if (settings.mode === "jwt" && !settings.jwt.secret && !settings.jwt.jwks)
    throw new KaitenError("AUTH_NOT_CONFIGURED", NOT_CONFIGURED_MESSAGE);
  return json({
    name: "kaiten",
    protocol: SUBPROTOCOL,
    docs: "docs/PROTOCOL.md",
    auth: settings.mode,
  });
}

async function topicRoute(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
  topic: string,
  records: boolean,
): Promise<WebResponse> {
  const method = request.method;
  if (records) {
    if (method !== "POST") return notAllowed();
    if (who.kind === "site-key")
      return produce(request, ctx, topic, {
        create: false,
        admit: (n) => admitSiteKey(ctx, who, topic, n),
      });
    requireRight(who, "produce", topic);
    return produce(request, ctx, topic, { create: mayCreate(ctx, who, topic) });
  }
  if (method === "GET") {
    if (who.kind === "site-key" || !touches(rightsOf(who), topic))
      requireRight(who, "subscribe", topic);
    const create = new URL(request.url).searchParams.get("create") === "true";
    return describeTopic(ctx, topic, create && mayCreate(ctx, who, topic));
  }
  requireAdmin(who);
  if (method === "DELETE") return deleteTopic(ctx, topic);
  return notAllowed();
}

async function siteKeyRoute(
  request: WebRequest,
  ctx: HttpContext,
  who: Principal,
): Promise<WebResponse> {
  requireAdmin(who);
  const id = SITE_KEY_PATH.exec(new URL(request.url).pathname)?.[1];
  if (id === undefined) {
    if (request.method === "GET") return listSiteKeys(ctx);
    if (request.method === "POST") return createSiteKey(request, ctx);
  } else if (request.method === "DELETE") return deleteSiteKey(ctx, id);
  return notAllowed();
}

function notAllowed(): WebResponse {
  return errorResponse(new KaitenError("INVALID_REQUEST", "method not allowed"), 405);
}
