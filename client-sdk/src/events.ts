/** A minimal typed event emitter, the connection status shown to UIs, and a deferred. */
import type { KaitenClientError } from "./errors.ts";

export const State = {
  Connecting: "connecting",
  Open: "open",
  Reconnecting: "reconnecting",
  Closed: "closed",
} as const;
export type State = (typeof State)[keyof typeof State];

export interface Status {
  state: State;
  /** Reconnect attempts since the connection was last healthy; 0 when open. */
  attempt: number;
  /** Milliseconds until the next attempt, while reconnecting; 0 otherwise. */
  delayMs: number;
  /** Why the connection dropped or closed, when it did. */
  error?: KaitenClientError | undefined;
}

export const status = (
  state: State,
  attempt = 0,
  delayMs = 0,
  error?: KaitenClientError,
): Status => ({
  state,
  attempt,
  delayMs,
  error,
});

/** How bad a state is, to show the worst of many sockets: closed by an error is the worst. */
const RANK = { closed: 0, open: 1, connecting: 2, reconnecting: 3 };
const rank = (s: Status) => (s.error && s.state === "closed" ? 4 : RANK[s.state]) * 1e9 + s.attempt;

/** One status for many sockets: the worst state, and among reconnecting ones the most attempts. */
export const combine = (all: Status[], previous: Status): Status =>
  all.reduce<Status | undefined>((w, s) => (w && rank(w) >= rank(s) ? w : s), undefined) ??
  previous;

export const same = (a: Status, b: Status): boolean =>
  a.state === b.state && a.attempt === b.attempt && a.delayMs === b.delayMs;

export type Listener<T> = (value: T) => void;

export class Emitter<E> {
  readonly #listeners: { [K in keyof E]?: Set<Listener<E[K]>> } = {};

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(type: K, fn: Listener<E[K]>): () => void {
    const set = this.#listeners[type] ?? new Set();
    this.#listeners[type] = set;
    set.add(fn);
    return () => set.delete(fn);
  }

  /** @internal */
  protected emit<K extends keyof E>(type: K, value: E[K]): void {
    for (const fn of this.#listeners[type] ?? []) {
      // A throwing listener must not break the SDK's own state machine.
      try {
        fn(value);
      } catch (error) {
        console.error(error);
      }
    }
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function deferred<T>(): Deferred<T> {
  const d = {} as Deferred<T>;
  d.promise = new Promise<T>((resolve, reject) => Object.assign(d, { resolve, reject }));
  return d;
}
