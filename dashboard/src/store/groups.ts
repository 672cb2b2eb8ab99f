/**
 * Consumer groups (docs/PROTOCOL.md §16) from `GET /v1/groups` and `GET /v1/groups/{g}`:
 * members, committed offsets and lag per partition. Group state is not in the metrics
 * stream, so a page that shows it polls while it is open (`watch`), every 2 s.
 */
import type { Api } from "./api.ts";
import { type DashboardStore, type GroupDetail, patch } from "./state.ts";

const POLL_MS = 2_000;

export interface GroupActions {
  /** Loads every group's description once. */
  load(): Promise<void>;
  /** Polls while something shows groups; call the returned function to stop. */
  watch(): () => void;
  /** Sets a topic's committed offsets to its earliest or latest (only while the group is empty); resolves with an error message, or null. */
  reset(group: string, topic: string, to: "earliest" | "latest"): Promise<string | null>;
  /** Deletes an empty group; resolves with an error message, or null. */
  remove(group: string): Promise<string | null>;
}

export function groupActions(store: DashboardStore, api: Api): GroupActions {
  let watchers = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const actions: GroupActions = {
    async load() {
      try {
        const { groups } = await api.get<{ groups: string[] }>("/v1/groups");
        const list = await Promise.all(
          groups.map((g) =>
            api.get<GroupDetail>(`/v1/groups/${encodeURIComponent(g)}`).catch(() => null),
          ),
        );
        patch(store, "groups", {
          list: list.filter((g): g is GroupDetail => g !== null),
          error: null,
        });
      } catch (error) {
        patch(store, "groups", { error: (error as Error).message });
      }
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
  const path = (group: string) => `/v1/groups/${encodeURIComponent(group)}`;
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
    if (watchers > 0) timer = setTimeout(poll, POLL_MS);
  }
  return actions;
}
