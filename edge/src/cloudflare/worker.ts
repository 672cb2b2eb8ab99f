/**
 * The Worker: the HTTP API of the core (core/http/api.ts) over the Durable Object stubs
 * (port.ts), and the WebSocket upgrade, which needs the Workers runtime's WebSocketPair.
 */
import { ErrorCode, errorFrame, type KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import { type HttpHost, handleHttp, prepareSocket } from "../core/http/api.ts";
import { asKaitenError } from "../core/partition.ts";
import { type Env, partitionStub } from "./env.ts";
import { cloudflarePort, workerHooks } from "./port.ts";

export { GroupObject } from "./group-object.ts";
export { PartitionObject } from "./partition-object.ts";
export { SiteKeyObject } from "./site-key-object.ts";
export { TopicRegistry } from "./topic-registry.ts";

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const host: HttpHost = { ...workerHooks, upgrade: () => openSocket(request, env) };
    // The core's Response is this runtime's own (core/http/web.ts takes it from globalThis).
    return (await handleHttp(request, cloudflarePort(env), host)) as Response;
  },
} satisfies ExportedHandler<Env>;

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
