/**
 * GET /v1/topics (docs/PROTOCOL.md §11.1): the topics the caller may see, by name, with an
 * optional prefix and pages. Every Durable Stream is a topic of one partition (§18.2), so a
 * deployment with many streams lists them in pages instead of all at once.
 */
import { KaitenError } from "@kaiten/protocol";
import type { HttpContext } from "./context.ts";
import { json } from "./json.ts";
import type { WebResponse, WebURL } from "./web.ts";

/** Most topics one page may ask for. */
export const MAX_TOPIC_PAGE = 1_000;

export async function listTopicPage(
  ctx: HttpContext,
  url: WebURL,
  visible: (name: string) => boolean,
): Promise<WebResponse> {
  const prefix = url.searchParams.get("prefix") ?? "";
  const after = url.searchParams.get("after");
  const limit = pageLimit(url.searchParams.get("limit"));
  const topics = (await ctx.port.registry().list())
    .filter(
      (t) => visible(t.name) && t.name.startsWith(prefix) && (after === null || t.name > after),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (limit === null) return json({ topics });
  const page = topics.slice(0, limit);
  const more = topics.length > limit;
  return json(more ? { topics: page, next: page[page.length - 1]?.name } : { topics: page });
}

/** No `limit`: every topic (as before pages existed). */
function pageLimit(raw: string | null): number | null {
  if (raw === null) return null;
  const n = Number(raw);
  if (!/^\d{1,4}$/.test(raw) || n < 1 || n > MAX_TOPIC_PAGE)
    throw new KaitenError(
      "INVALID_REQUEST",
      `limit must be an integer from 1 to ${MAX_TOPIC_PAGE}`,
    );
  return n;
}
