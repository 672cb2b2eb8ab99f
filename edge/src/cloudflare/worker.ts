/**
 * The Worker: routes HTTP and WebSocket requests to the topic registry and to the partition
 * objects. Every route's errors become a documented code (docs/PROTOCOL.md §8).
 */
import { ErrorCode, errorFrame, KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import type { Env } from "./env.ts";
import { partitionStub } from "./env.ts";
import {
  createTopic,
  deleteTopic,
  describeTopic,
  errorResponse,
  json,
  listTopics,
  produce,
  readRecords,
  refOf,
} from "./http.ts";
import { asKaitenError } from "./partition-object.ts";
import { checkPartition, lookupTopic } from "./topics.ts";

export { PartitionObject } from "./partition-object.ts";
export { TopicRegistry } from "./topic-registry.ts";

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
  "access-control-allow-headers": "content-type, authorization",
  "access-control-max-age": "86400",
};

const PARTITION_PATH = /^\/v1\/topics\/([^/]+)\/partitions\/([^/]+)\/(records|ws)$/;
const TOPIC_PATH = /^\/v1\/topics\/([^/]+)(\/records)?$/;

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

async function route(request: Request, env: Env): Promise<Response> {
  const url = new URL(request.url);
  const path = url.pathname;
  const method = request.method;
  if (path === "/v1/topics") {
    if (method === "GET") return listTopics(env);
    if (method === "POST") return createTopic(request, env);
    return notAllowed();
  }
  const p = PARTITION_PATH.exec(path);
  if (p) {
    const [name, partition] = [p[1] as string, p[2] as string];
    // A WebSocket parses its own path, so that a bad one is refused over the socket (§9).
    if (p[3] === "ws")
      return method === "GET" ? openSocket(request, env, name, partition) : notAllowed();
    return method === "GET"
      ? readRecords(url, env, topicName(name), partitionNumber(partition))
      : notAllowed();
  }
  const t = TOPIC_PATH.exec(path);
  if (t) {
    const topic = topicName(t[1] as string);
    if (t[2]) return method === "POST" ? produce(request, env, topic) : notAllowed();
    if (method === "GET")
      return describeTopic(env, topic, url.searchParams.get("create") === "true");
    if (method === "DELETE") return deleteTopic(env, topic);
    return notAllowed();
  }
  // "/" is the dashboard (static assets, wrangler.toml); the broker describes itself at /v1.
  if (path === "/v1")
    return json({ name: "kaiten", protocol: SUBPROTOCOL, docs: "docs/PROTOCOL.md" });
  throw new KaitenError("NOT_FOUND", `no route for ${method} ${path}`);
}

function notAllowed(): Response {
  return errorResponse(new KaitenError("INVALID_REQUEST", "method not allowed"), 405);
}

/** The topic name of a path segment; bad percent-encoding is an illegal name, not a 500. */
function topicName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new KaitenError("INVALID_TOPIC", "the topic name is not valid percent-encoding");
  }
}

function partitionNumber(text: string): number {
  const n = Number(text);
  if (!/^\d{1,3}$/.test(text) || !Number.isInteger(n)) {
    throw new KaitenError("INVALID_PARTITION", "a partition is a non-negative integer");
  }
  return n;
}

/**
 * Hands the WebSocket to the partition's object. A request that cannot be served is still
 * accepted and then closed with an ERROR frame and close code 4000 + the error's number, so a
 * browser (which cannot read an HTTP error of a failed upgrade) learns why (§9).
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
    const topic = await lookupTopic(env, name, true);
    checkPartition(topic, partition);
    const forward = new Request(request);
    forward.headers.set("x-kaiten-ref", JSON.stringify(refOf(topic, partition)));
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
