/**
 * The Worker: routes HTTP and WebSocket requests to the topic registry and to the partition
 * objects. Every route's errors become a documented code (docs/PROTOCOL.md §8).
 */
import { ErrorCode, errorFrame, KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import {
  authenticate,
  type Credentials,
  describePrincipal,
  type Principal,
  requireAdmin,
  requireRight,
  rightsOf,
  socketGrant,
} from "../core/auth/access.ts";
import { NOT_CONFIGURED_MESSAGE } from "../core/auth/jwt.ts";
import { allows, touches } from "../core/auth/rights.ts";
import { partitionNumber, topicName } from "../core/paths.ts";
import { STREAM_PATH, streamRoute } from "./durable-streams.ts";
import { auth, autoCreate, type Env, partitionStub } from "./env.ts";
import { groupRoute, isGroupPath } from "./groups.ts";
import {
  createTopic,
  deleteTopic,
  describeTopic,
  errorResponse,
  json,
  produce,
  refOf,
} from "./http.ts";
import { partitionRead } from "./live.ts";
import { asKaitenError } from "./partition-object.ts";
import { admitSiteKey, createSiteKey, deleteSiteKey, listSiteKeys } from "./site-keys.ts";
import { listTopicPage } from "./topic-list.ts";
import { checkPartition, lookupTopic } from "./topics.ts";

export { GroupObject } from "./group-object.ts";
export { PartitionObject } from "./partition-object.ts";
export { SiteKeyObject } from "./site-key-object.ts";
export { TopicRegistry } from "./topic-registry.ts";

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

const PARTITION_PATH = /^\/v1\/topics\/([^/]+)\/partitions\/([^/]+)\/(records|ws)$/;
const TOPIC_PATH = /^\/v1\/topics\/([^/]+)(\/records)?$/;
const SITE_KEY_PATH = /^\/v1\/site-keys\/([^/]+)$/;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    if (request.method === "OPTIONS") return new Response(null, { status: 204, headers: CORS });
    let response: Response;
    try {
      response = await route(request, env);
    } catch (error) {
      if (!(error instanceof KaitenError)) console.error("[kaiten:worker] request failed", error);
      response = errorResponse(asKaitenError(error));
    }
    if (response.status === 101) return response;
    const withCors = new Response(response.body, response);
    for (const [k, v] of Object.entries(CORS)) withCors.headers.set(k, v);
    return withCors;
  },
} satisfies ExportedHandler<Env>;

function credentials(request: Request, url: URL): Credentials {
  return {
    authorization: request.headers.get("authorization"),
    token: url.searchParams.get("token"),
    key: url.searchParams.get("key"),
    origin: request.headers.get("origin"),
  };
}

async function route(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  const method = request.method;
  const p = PARTITION_PATH.exec(path);
  // A WebSocket checks its rights itself, so that a refusal reaches a browser (§9, §15.3).
  if (p?.[3] === "ws")
    return method === "GET"
      ? openSocket(request, env, p[1] as string, p[2] as string)
      : notAllowed();
  // "/" is the dashboard (static assets, wrangler.toml); the broker describes itself at /v1.
  if (path === "/v1") return describeBroker(env);
  const who = await authenticate(credentials(request, url), auth(env));
  const t = TOPIC_PATH.exec(path);
  // A site key is public: it produces records and is refused everywhere else (§15.5).
  if (who.kind === "site-key" && !(t?.[2] && method === "POST"))
    throw new KaitenError("FORBIDDEN", "a site key can only produce records");
  if (path === "/v1/auth") return json(describePrincipal(who, auth(env)));
  if (path === "/v1/topics") {
    if (method === "GET") return listTopicPage(env, url, (name) => touches(rightsOf(who), name));
    requireAdmin(who);
    if (method === "POST") return createTopic(request, env);
    return notAllowed();
  }
  if (path === "/v1/site-keys" || SITE_KEY_PATH.test(path)) return siteKeyRoute(request, env, who);
  if (isGroupPath(path)) return groupRoute(request, env, who);
  const s = STREAM_PATH.exec(path);
  if (s) return streamRoute(request, env, who, s[1] as string);
  if (p) {
    const topic = topicName(p[1] as string);
    requireRight(who, "subscribe", topic);
    if (method !== "GET") return notAllowed();
    const expiresAt = who.kind === "token" ? who.expiresAt : 0;
    const partition = partitionNumber(p[2] as string);
    return partitionRead(request, { url, env, topic, partition, expiresAt, auth: auth(env) });
  }
  if (t) return topicRoute(request, env, who, topicName(t[1] as string), Boolean(t[2]));
  throw new KaitenError("NOT_FOUND", `no route for ${method} ${path}`);
}

function describeBroker(env: Env): Response {
  const settings = auth(env);
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
  request: Request,
  env: Env,
  who: Principal,
  topic: string,
  records: boolean,
): Promise<Response> {
  const method = request.method;
  if (records) {
    if (method !== "POST") return notAllowed();
    if (who.kind === "site-key")
      return produce(request, env, topic, {
        create: false,
        admit: (n) => admitSiteKey(env, who, topic, n),
      });
    requireRight(who, "produce", topic);
    return produce(request, env, topic, { create: mayCreate(env, who, topic) });
  }
  if (method === "GET") {
    if (who.kind === "site-key" || !touches(rightsOf(who), topic))
      requireRight(who, "subscribe", topic);
    const create = new URL(request.url).searchParams.get("create") === "true";
    return describeTopic(env, topic, create && mayCreate(env, who, topic));
  }
  requireAdmin(who);
  if (method === "DELETE") return deleteTopic(env, topic);
  return notAllowed();
}

async function siteKeyRoute(request: Request, env: Env, who: Principal): Promise<Response> {
  requireAdmin(who);
  const id = SITE_KEY_PATH.exec(new URL(request.url).pathname)?.[1];
  if (id === undefined) {
    if (request.method === "GET") return listSiteKeys(env);
    if (request.method === "POST") return createSiteKey(request, env);
  } else if (request.method === "DELETE") return deleteSiteKey(env, id);
  return notAllowed();
}

/**
 * Whether a produce or subscribe may create the topic it names (PROTOCOL.md §15.2): only with
 * auto-create on, and, with auth on, only for a token with `create` (or `admin`) on the name.
 * A browser's `produce:*` token never fills the registry; site keys never create.
 */
function mayCreate(env: Env, who: Principal, topic: string): boolean {
  if (!autoCreate(env) || who.kind === "site-key") return false;
  return who.kind === "open" || allows(who.rights, "create", topic);
}

function notAllowed(): Response {
  return errorResponse(new KaitenError("INVALID_REQUEST", "method not allowed"), 405);
}

/**
 * Checks the caller's rights on the topic and hands the WebSocket to the partition's object
 * with what the socket may do (its grant). A request that cannot be served is still
 * accepted and then closed with an ERROR frame and close code 4000 + the error's number, so a
 * browser (which cannot read an HTTP error of a failed upgrade) learns why (§9, §15.3).
 */
async function openSocket(
  request: Request,
  env: Env,
  nameSegment: string,
  partitionSegment: string,
): Promise<Response> {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return errorResponse(new KaitenError("INVALID_REQUEST", "expected a WebSocket upgrade"), 426);
  }
  try {
    const offered = request.headers.get("sec-websocket-protocol");
    if (offered && !offered.split(",").some((p) => p.trim() === SUBPROTOCOL)) {
      throw new KaitenError("UNSUPPORTED_VERSION", `this broker speaks ${SUBPROTOCOL}`);
    }
    const name = topicName(nameSegment);
    const partition = partitionNumber(partitionSegment);
    const url = new URL(request.url);
    const who = await authenticate(credentials(request, url), auth(env));
    const grant = socketGrant(who, name);
    if (who.kind === "site-key") await admitSiteKey(env, who, name, 0);
    const topic = await lookupTopic(env, name, mayCreate(env, who, name));
    checkPartition(topic, partition);
    const forward = new Request(request);
    // Both headers are always set here, never taken from the client: the object trusts them.
    forward.headers.set("x-kaiten-ref", JSON.stringify(refOf(topic, partition)));
    forward.headers.set("x-kaiten-grant", JSON.stringify(grant));
    return await partitionStub(env, name, partition).fetch(forward);
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
