/**
 * Consumer groups (docs/PROTOCOL.md §16): members, committed offsets and lag per partition.
 * `GET /v1/groups/{g}` gives a group's members and offsets when a page shows groups; from
 * then on the `__metrics` stream keeps them live (§14): a group's record brings its committed
 * offsets (and, with a new generation or member count, a fresh description), and every
 * partition's record brings its high watermark, from which the page computes lag. Nothing
 * is polled while the stream is live, except a slow refresh for what the stream does not
 * carry (a group deleted elsewhere). A token that cannot read `__metrics` polls instead.
 */
import type { Api } from "./api.ts";
import { type DashboardStore, type GroupDetail, patch } from "./state.ts";

/** Without the metrics stream: how often groups are read again. */
const POLL_MS = 2_000;
/** With it: how often the list is read again anyway, for groups deleted elsewhere. */
const REFRESH_MS = 15_000;

/** A group's record in `__metrics` (PROTOCOL.md §14). */
export interface GroupMetrics {
  group: string;
  at: number;
  generation: number;
  members: number;
  offsets: Array<{
    topic: string;
    partition: number;
    committed: number | null;
    highWatermark: number | null;
    lag: number | null;
  }>;
  totalLag: number;
}

export interface GroupActions {
  /** Loads every group's description once. */
  load(): Promise<void>;
  /** Keeps groups fresh while something shows them; call the returned function to stop. */
  watch(): () => void;
  /** Applies a group's record from the metrics stream. */
  observe(v: GroupMetrics): void;
  /** Sets a topic's committed offsets to its earliest or latest (only while the group is empty); resolves with an error message, or null. */
  reset(group: string, topic: string, to: "earliest" | "latest"): Promise<string | null>;
  /** Deletes an empty group; resolves with an error message, or null. */
  remove(group: string): Promise<string | null>;
}

/** `live`: whether the metrics stream feeds `observe` (the token may read `__metrics`). */
export function groupActions(store: DashboardStore, api: Api, live: boolean): GroupActions {
  let watchers = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** Groups being described again, so a burst of records asks once. */
  const reloading = new Set<string>();
  const path = (group: string) => `/v1/groups/${encodeURIComponent(group)}`;
  const list = () => store.getState().groups.list;

  async function describe(group: string): Promise<void> {
    if (reloading.has(group)) return;
    reloading.add(group);
    try {
      const d = await api.get<GroupDetail>(path(group));
      const now = list() ?? [];
      const at = now.findIndex((g) => g.name === group);
      patch(store, "groups", {
        list: at < 0 ? [...now, d] : now.map((g, i) => (i === at ? d : g)),
      });
    } catch {
      // Deleted meanwhile, or not ours to see: the next full load says so.
    } finally {
      reloading.delete(group);
    }
  }

  const actions: GroupActions = {
    async load() {
      try {
        const { groups } = await api.get<{ groups: string[] }>("/v1/groups");
        const all = await Promise.all(
          groups.map((g) => api.get<GroupDetail>(path(g)).catch(() => null)),
        );
        patch(store, "groups", {
          list: all.filter((g): g is GroupDetail => g !== null),
          error: null,
        });
      } catch (error) {
        patch(store, "groups", { error: (error as Error).message });
      }
    },
    observe(v) {
      const now = list();
      // Nothing shows groups yet (the first load brings the current state), or a stray record.
      if (watchers === 0 || now === null || typeof v.generation !== "number") return;
      const known = now.find((g) => g.name === v.group);
      // A group not seen yet, or its members changed: only a description has the members.
      if (!known || v.generation !== known.generation || v.members !== known.members.length) {
        if (!known || v.generation >= known.generation) void describe(v.group);
        return;
      }
      // The same generation: commits only move forward (a reset needs an empty group, and the
      // page that resets loads again), so a record read back from the stream's history never
      // moves one back.
      const offsets = known.offsets.map((o) => {
        const r = v.offsets.find((x) => x.topic === o.topic && x.partition === o.partition);
        if (!r || r.committed === null || (o.committed !== null && r.committed <= o.committed))
          return o;
        return { ...o, committed: r.committed, highWatermark: r.highWatermark, lag: r.lag };
      });
      if (offsets.every((o, i) => o === known.offsets[i])) return;
      const next = { ...known, offsets };
      patch(store, "groups", { list: now.map((g) => (g === known ? next : g)) });
    },
    async reset(group, topic, to) {
      return settle(api.post(`${path(group)}/offsets`, { topic, to }));
    },
    async remove(group) {
      return settle(api.delete(path(group)));
    },
    watch() {
      if (watchers++ === 0) poll();
      return () => {
        if (--watchers === 0) clearTimeout(timer);
      };
    },
  };
  async function settle(request: Promise<unknown>): Promise<string | null> {
    try {
      await request;
    } catch (error) {
      return (error as Error).message;
    }
    await actions.load();
    return null;
  }
  async function poll() {
    await actions.load();
    if (watchers > 0) timer = setTimeout(poll, live ? REFRESH_MS : POLL_MS);
  }
  return actions;
}
