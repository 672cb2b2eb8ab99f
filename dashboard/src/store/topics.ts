/**
 * Topic configs come from the HTTP API (`GET /v1/topics`, `GET /v1/topics/{t}`), fetched when
 * a page needs them or a new topic shows up in the metrics stream; live numbers come from
 * `__metrics`. Nothing here polls.
 */
import type { Api } from "./api.ts";
import { topicPath } from "./api.ts";
import { type DashboardStore, patch, type TopicConfig, type TopicDetail } from "./state.ts";

export interface NewTopic {
  name: string;
  partitions: number;
  /** -1 keeps records forever; undefined takes the broker's default. */
  retentionMs?: number;
}

export interface TopicActions {
  /** Reloads the list; resolves with it (empty when the broker could not be asked). */
  load(): Promise<TopicConfig[]>;
  /** Reloads the list soon, once for a burst of calls (new topics in the metrics stream). */
  loadSoon(): void;
  /** Fetches the topic's partitions; resolves with an error message, or null. */
  describe(name: string): Promise<string | null>;
  /** Resolves with an error message, or null when the topic was created (or already existed). */
  create(topic: NewTopic): Promise<string | null>;
  showSystem(show: boolean): void;
}

export function topicActions(store: DashboardStore, api: Api): TopicActions {
  let soon: ReturnType<typeof setTimeout> | undefined;
  const actions: TopicActions = {
    async load() {
      patch(store, "topics", { loading: true });
      try {
        const { topics } = await api.get<{ topics: TopicConfig[] }>("/v1/topics");
        topics.sort((a, b) => a.name.localeCompare(b.name));
        patch(store, "topics", { list: topics, loading: false, error: null });
        return topics;
      } catch (error) {
        patch(store, "topics", { loading: false, error: (error as Error).message });
        return store.getState().topics.list ?? [];
      }
    },
    loadSoon() {
      clearTimeout(soon);
      soon = setTimeout(() => actions.load(), 300);
    },
    async describe(name) {
      try {
        const detail = await api.get<TopicDetail>(topicPath(name));
        const details = { ...store.getState().topics.details, [name]: detail };
        patch(store, "topics", { details });
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
    async create(topic) {
      try {
        await api.post("/v1/topics", topic);
      } catch (error) {
        return (error as Error).message;
      }
      await actions.load();
      return null;
    },
    showSystem(show) {
      patch(store, "topics", { showSystem: show });
    },
  };
  return actions;
}
