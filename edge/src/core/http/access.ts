/** Who is calling, and what the rights rules of PROTOCOL.md §15 let them do beyond one right. */
import type { Credentials, Principal } from "../auth/access.ts";
import { allows } from "../auth/rights.ts";
import type { HttpContext } from "./context.ts";
import type { WebRequest, WebURL } from "./web.ts";

export function credentials(request: WebRequest, url: WebURL): Credentials {
  return {
    authorization: request.headers.get("authorization"),
    token: url.searchParams.get("token"),
    key: url.searchParams.get("key"),
    origin: request.headers.get("origin"),
  };
}

/**
 * Whether a produce or subscribe may create the topic it names (PROTOCOL.md §15.2): only with
 * auto-create on, and, with auth on, only for a token with `create` (or `admin`) on the name.
 * A browser's `produce:*` token never fills the registry; site keys never create.
 */
export function mayCreate(ctx: HttpContext, who: Principal, topic: string): boolean {
  if (!ctx.port.settings.autoCreate || who.kind === "site-key") return false;
  return who.kind === "open" || allows(who.rights, "create", topic);
}
