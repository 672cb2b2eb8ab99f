/**
 * What precedes a WebSocket upgrade on every host (PROTOCOL.md §9, §15.3): the subprotocol,
 * the caller's rights on the topic, a site key's admission, the topic and partition. The host
 * then hands the socket to the partition's owner with the grant, or, if this throws, accepts
 * the socket and closes it with an ERROR frame and close code 4000 + the error's number, so a
 * browser (which cannot read the HTTP error of a failed upgrade) learns why.
 */
import { KaitenError, SUBPROTOCOL } from "@kaiten/protocol";
import { authenticate, type SocketGrant, socketGrant } from "../auth/access.ts";
import { partitionNumber, topicName } from "../paths.ts";
import type { BrokerPort, PartitionRef } from "../port.ts";
import { refOf } from "../topic-ref.ts";
import type { Topic } from "../topic-store.ts";
import { credentials, mayCreate } from "./access.ts";
import { contextOf, type HttpHooks } from "./context.ts";
import { admitSiteKey } from "./site-keys.ts";
import { checkPartition, lookupTopic } from "./topic-cache.ts";
import { URL, type WebRequest } from "./web.ts";

/** `/v1/topics/{topic}/partitions/{partition}/records` or `…/ws`. */
export const PARTITION_PATH = /^\/v1\/topics\/([^/]+)\/partitions\/([^/]+)\/(records|ws)$/;

export interface SocketAdmission {
  topic: Topic;
  partition: number;
  /** What the socket may do; the host passes it to the partition's owner, never the client. */
  grant: SocketGrant;
  /** Who the partition is and its topic's config, as every partition call carries. */
  ref: PartitionRef;
}

/** Checks a WebSocket request to `/v1/topics/{t}/partitions/{p}/ws`; throws a KaitenError why not. */
export async function prepareSocket(
  request: WebRequest,
  port: BrokerPort,
  hooks: HttpHooks,
): Promise<SocketAdmission> {
  const offered = request.headers.get("sec-websocket-protocol");
  if (offered && !offered.split(",").some((p) => p.trim() === SUBPROTOCOL)) {
    throw new KaitenError("UNSUPPORTED_VERSION", `this broker speaks ${SUBPROTOCOL}`);
  }
  const url = new URL(request.url);
  const p = PARTITION_PATH.exec(url.pathname);
  if (p?.[3] !== "ws") throw new KaitenError("NOT_FOUND", `no socket at ${url.pathname}`);
  const name = topicName(p[1] as string);
  const partition = partitionNumber(p[2] as string);
  const ctx = contextOf(port, hooks);
  const who = await authenticate(credentials(request, url), port.settings.auth);
  const grant = socketGrant(who, name);
  if (who.kind === "site-key") await admitSiteKey(ctx, who, name, 0);
  const topic = await lookupTopic(ctx, name, mayCreate(ctx, who, name));
  checkPartition(topic, partition);
  return { topic, partition, grant, ref: refOf(topic, partition) };
}
