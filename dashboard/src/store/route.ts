/**
 * Pages are paths (/topics/clicks), not hashes: both hosts answer index.html for any path
 * that is not a file, under /assets/ or the API (worker.ts, node/assets.ts), so links can be
 * shared.
 */
import type { DashboardStore, Route } from "./state.ts";

export function parseRoute(pathname: string, search: string): Route {
  const query = Object.fromEntries(new URLSearchParams(search));
  const parts = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  const [first, second] = parts;
  if (parts.length === 0) return { page: "overview", query };
  if (first === "topics" && parts.length === 1) return { page: "topics", query };
  if (first === "topics" && second && parts.length === 2)
    return { page: "topic", topic: second, query };
  if (first === "tail" && parts.length === 1) return { page: "tail", query };
  if (first === "produce" && parts.length === 1) return { page: "produce", query };
  return { page: "notfound", query };
}

export function currentRoute(): Route {
  return parseRoute(location.pathname, location.search);
}

/** Follows the browser's back and forward buttons; returns the function that stops it. */
export function watchHistory(store: DashboardStore): () => void {
  const onPop = () => store.setState({ route: currentRoute() });
  addEventListener("popstate", onPop);
  return () => removeEventListener("popstate", onPop);
}

export function navigate(store: DashboardStore, href: string): void {
  if (href === location.pathname + location.search) return;
  history.pushState(null, "", href);
  store.setState({ route: currentRoute() });
  scrollTo(0, 0);
}

export const topicHref = (topic: string) => `/topics/${encodeURIComponent(topic)}`;
export const tailHref = (topic: string, partition?: number) =>
  `/tail?topic=${encodeURIComponent(topic)}${partition === undefined ? "" : `&partition=${partition}`}`;
