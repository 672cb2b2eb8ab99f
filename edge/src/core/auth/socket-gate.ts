/**
 * A socket's rights checked frame by frame (docs/PROTOCOL.md §15.4), the same on every host:
 * the grant taken at the upgrade, PRODUCE and SUBSCRIBE against it (a closed Durable Stream's
 * refusal, a site key's admission), AUTH to replace it with a new token's, and the end of the
 * socket when its token expires. Hosts keep the rights where their sockets keep state (the
 * attachment on Cloudflare, memory on Node) and say how to close a socket and when to look
 * again.
 */
import {
  type AuthFrame,
  encodeFrame,
  FrameType,
  KaitenError,
  type ProduceFrame,
} from "@kaiten/protocol";
import type { SocketGate } from "../partition.ts";
import { type SiteKeyPort, unwrap } from "../port.ts";
import type { PeerSocket } from "../types.ts";
import { authenticate, type Principal, type SocketGrant, socketGrant } from "./access.ts";
import { allows } from "./rights.ts";
import type { AuthSettings } from "./settings.ts";
import { siteKeyId } from "./site-keys.ts";

/** What a host keeps with each socket. */
export interface SocketRights {
  grant: SocketGrant;
  /** Whether the socket has produced: a refreshed token must still allow it. */
  produced: boolean;
}

export interface GrantGateOptions {
  /** The socket's rights, as the host keeps them. */
  rights(): SocketRights;
  /** The rights changed: store them (on Cloudflare, in the attachment). */
  save(): void;
  /** The topic the socket is connected to. */
  topic(): string;
  settings(): AuthSettings;
  now(): number;
  /** Ends the socket: ERROR TOKEN_EXPIRED, then close 4027 (see `expiredError`). */
  expire(): void;
  /** The rights now end at `at` (ms since the epoch): close the socket then. */
  expiresAt(at: number): void;
  /**
   * Where a site key's bucket is (§15.5): every PRODUCE of a site-key socket is admitted by
   * it, for as many records as the batch holds. Default: none (site-key sockets are refused)
   */
  siteKey?(id: string): Pick<SiteKeyPort, "admit">;
  /**
   * Throws when the partition takes no more records (a closed Durable Stream, PROTOCOL.md
   * §18.4), checked before the socket's rights. Default: always takes records
   */
  refuseProduce?(): void;
}

/** No rights at all: a socket that reached a partition without a grant. */
export const NO_GRANT: SocketGrant = { produce: false, subscribe: false, expiresAt: 0 };

export function expired(grant: SocketGrant, now: number): boolean {
  return grant.expiresAt > 0 && grant.expiresAt <= now;
}

export function expiredError(): KaitenError {
  return new KaitenError("TOKEN_EXPIRED", "the socket's token expired; connect with a new one");
}

/** Whether the principal may have the topic created for it on first use. */
export function mayAutoCreate(who: Principal, topic: string, autoCreate: boolean): boolean {
  if (!autoCreate || who.kind === "site-key") return false;
  return who.kind === "open" || allows(who.rights, "create", topic);
}

function forbidden(right: string, topic: string, whose = "the socket's token"): KaitenError {
  return new KaitenError("FORBIDDEN", `${whose} has no ${right} right on "${topic}"`);
}

export function grantGate(o: GrantGateOptions): SocketGate {
  return {
    admit: () => {
      if (!expired(o.rights().grant, o.now())) return true;
      o.expire();
      return false;
    },
    // Synchronous unless a site key must be admitted, so that plain produces keep their order.
    produce: (_peer: PeerSocket, f: ProduceFrame) => {
      o.refuseProduce?.();
      const rights = o.rights();
      if (!rights.grant.produce) throw forbidden("produce", o.topic());
      if (!rights.produced) {
        rights.produced = true;
        o.save();
      }
      const site = rights.grant.siteKey;
      if (!site) return undefined;
      return admitSiteKey(o, site, f.batch);
    },
    subscribe: () => {
      if (!o.rights().grant.subscribe) throw forbidden("subscribe", o.topic());
    },
    auth: (peer, f) => refresh(o, peer, f),
  };
}

/** Admits one PRODUCE of a site-key socket at the key's bucket: rate, revocation (§15.5). */
async function admitSiteKey(
  o: GrantGateOptions,
  site: NonNullable<SocketGrant["siteKey"]>,
  batch: Uint8Array,
): Promise<void> {
  const id = siteKeyId(site.key);
  if (!o.siteKey || !id) throw new KaitenError("UNAUTHENTICATED", "not a served site key");
  const { key, origin } = site;
  unwrap(await o.siteKey(id).admit({ key, origin, topic: o.topic(), records: recordsIn(batch) }));
}

/**
 * How many records a PRODUCE's batch holds, for a site key's rate: the count at bytes 16..19
 * (§4.1). A batch too short to hold it counts as one; it fails validation afterwards.
 */
export function recordsIn(batch: Uint8Array): number {
  if (batch.length < 20) return 1;
  return new DataView(batch.buffer, batch.byteOffset, batch.length).getUint32(16);
}

/**
 * AUTH: a new token for this socket (§15.4). Its rights must still cover what the socket does
 * (its subscription, its producing); then they replace the old ones, with the new expiry.
 */
async function refresh(o: GrantGateOptions, peer: PeerSocket, f: AuthFrame): Promise<void> {
  const rights = o.rights();
  const topic = o.topic();
  if (rights.grant.siteKey)
    throw new KaitenError("INVALID_REQUEST", "a site-key socket has no token to refresh");
  const who = await authenticate(
    { authorization: null, token: f.token, key: null, origin: null },
    o.settings(),
  );
  const next = socketGrant(who, topic);
  if (peer.getState() && !next.subscribe) throw forbidden("subscribe", topic, "the new token");
  if (rights.produced && !next.produce) throw forbidden("produce", topic, "the new token");
  rights.grant = next;
  o.save();
  if (next.expiresAt > 0) o.expiresAt(next.expiresAt);
  peer.send(
    encodeFrame({ type: FrameType.Authed, requestId: f.requestId, expiresAt: next.expiresAt }),
  );
}
