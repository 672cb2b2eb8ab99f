/**
 * `@kaiten/client/group`: consume a topic as a member of a consumer group (docs/PROTOCOL.md
 * §16). The group's partitions are shared among its members; this member reads the ones it
 * holds, from the group's committed offsets, and commits what it consumed every
 * `commitIntervalMs`, on revoke and on close. A separate entry, so the main one stays small.
 *
 *   import { joinGroup } from "@kaiten/client/group";
 *   const member = joinGroup(client, { group: "loaders", topic: "clicks", from: "earliest" });
 *   for await (const rec of member) await save(rec);
 */
import type { Client } from "./client.ts";
import { closedError, KaitenClientError } from "./errors.ts";
import { deferred, Emitter } from "./events.ts";
import type { Rec } from "./serde.ts";
import type { Subscription } from "./subscription.ts";

export interface GroupOptions {
  group: string;
  topic: string;
  /** Where to start a partition the group has no committed offset for. Default: "latest" */
  from?: "earliest" | "latest";
  /** A stable id (a tab's, kept in sessionStorage): a reload rejoins with the same partitions. Default: none */
  instanceId?: string;
  /** How long the broker waits for a silent member before moving its partitions. Default: 10_000 */
  sessionTimeoutMs?: number;
  /** Commit consumed positions every commitIntervalMs; false: only on `commit()`, revoke and close. Default: true */
  autoCommit?: boolean;
  /** Default: 1_000 */
  commitIntervalMs?: number;
}

interface TP {
  topic: string;
  partition: number;
}
interface View {
  memberId: string;
  generation: number;
  assignment: Array<TP & { offset: number | null }>;
  revoke: TP[];
  heartbeatIntervalMs: number;
}

type Pending<T> = { rec: Rec<T>; taken: () => void };

export interface GroupEvents {
  /** Partitions this member starts reading (from the group's committed offsets). */
  assigned: number[];
  /** Partitions this member stopped reading; their positions are committed and they are released. */
  revoked: number[];
}

export class GroupMember<T = unknown>
  extends Emitter<GroupEvents>
  implements AsyncIterable<Rec<T>>
{
  /** Resolves when the member ends: void after `close()`, the Error that ended it otherwise. Never rejects. */
  readonly closed: Promise<Error | undefined>;
  readonly #client: Client;
  readonly #o: GroupOptions;
  readonly #end = deferred<Error | undefined>();
  /** One subscription per held partition, so a revoke closes exactly one. */
  readonly #subs = new Map<number, Subscription<T>>();
  /** Next offset to commit per partition: after the last record consumed. */
  readonly #consumed = new Map<number, number>();
  readonly #committed = new Map<number, number>();
  #released: TP[] = [];
  #view: View | undefined;
  #queue: Pending<T>[] = [];
  #wake: (() => void) | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastCommit = 0;
  #closing = false;
  #beat: Promise<void> = Promise.resolve();

  constructor(client: Client, options: GroupOptions, callback?: (rec: Rec<T>) => unknown) {
    super();
    this.#client = client;
    this.#o = options;
    this.closed = this.#end.promise;
    this.#join().catch((e) => this.#fail(e));
    if (callback) this.#run(callback);
  }

  /** Partitions this member holds now. */
  assignment(): number[] {
    return [...this.#subs.keys()].sort((a, b) => a - b);
  }

  /** Commits what was consumed so far; resolves once the broker accepted it. */
  commit(): Promise<void> {
    return this.#heartbeat(true);
  }

  /** Commits what was consumed, leaves the group (its partitions move at once) and ends. */
  async close(): Promise<void> {
    if (this.#closing) return void (await this.closed);
    this.#closing = true;
    clearTimeout(this.#timer);
    await this.#beat.catch(() => {});
    await Promise.all([...this.#subs.values()].map((s) => s.close()));
    const v = this.#view;
    if (v)
      await this.#api(`members/${v.memberId}`, "DELETE", {
        generation: v.generation,
        commits: this.#commits(),
      }).catch(() => {});
    this.#finish(undefined);
    await this.closed;
  }

  [Symbol.asyncIterator](): AsyncIterator<Rec<T>> {
    return {
      next: async () => {
        const p = await this.#take();
        if (!p) return { done: true, value: undefined };
        p.taken();
        return { done: false, value: p.rec };
      },
      return: async () => {
        await this.close();
        return { done: true, value: undefined };
      },
    };
  }

  async #run(callback: (rec: Rec<T>) => unknown): Promise<void> {
    try {
      for (let p = await this.#take(); p; p = await this.#take()) {
        await callback(p.rec);
        p.taken();
      }
    } catch (error) {
      this.#fail(error as Error);
    }
  }

  async #take(): Promise<Pending<T> | undefined> {
    while (!this.#queue.length && !this.#closing) await new Promise<void>((r) => (this.#wake = r));
    return this.#queue.shift();
  }

  async #api(path: string, method: string, body?: unknown): Promise<View> {
    const o = this.#client.options;
    const url = new URL(
      `v1/groups/${encodeURIComponent(this.#o.group)}/${path}`,
      o.url.replace(/\/?$/, "/"),
    );
    const headers: Record<string, string> = { "content-type": "application/json" };
    // The client's token: a token function is asked when due, as for the client's own calls.
    const token = await this.#client.token();
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await (o.fetch ?? fetch)(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new KaitenClientError(json.error.code, json.error.message);
    return json;
  }

  async #join(): Promise<void> {
    const o = this.#o;
    const view = await this.#api("members", "POST", {
      topics: [o.topic],
      instanceId: o.instanceId,
      sessionTimeoutMs: o.sessionTimeoutMs,
    });
    this.#apply(view);
  }

  /** Opens partitions newly held, closes revoked ones (their positions go in the next commit). */
  #apply(view: View): void {
    if (this.#closing) return;
    this.#view = view;
    const held = new Set(view.assignment.map((a) => a.partition));
    const revoke = view.revoke.map((r) => r.partition);
    const added = view.assignment.filter(
      (a) => !this.#subs.has(a.partition) && !revoke.includes(a.partition),
    );
    for (const a of added) this.#open(a.partition, a.offset);
    const removed = [...this.#subs.keys()].filter((p) => !held.has(p) || revoke.includes(p));
    for (const p of removed) this.#revoke(p);
    // Held but being revoked before this member ever opened it (after a rejoin): release it now.
    const unopened = revoke.filter(
      (p) => !removed.includes(p) && !this.#released.some((r) => r.partition === p),
    );
    for (const partition of unopened) this.#released.push({ topic: this.#o.topic, partition });
    if (unopened.length) queueMicrotask(() => this.#heartbeat(true));
    if (added.length)
      this.emit(
        "assigned",
        added.map((a) => a.partition),
      );
    if (removed.length) this.emit("revoked", removed);
    // Auto-commit rides on heartbeats: beat at least as often as commits are due.
    const commitMs = this.#o.autoCommit === false ? Infinity : (this.#o.commitIntervalMs ?? 1_000);
    this.#schedule(Math.min(view.heartbeatIntervalMs, commitMs));
  }

  #open(partition: number, committed: number | null): void {
    if (committed !== null) this.#committed.set(partition, committed);
    const from =
      committed !== null ? { offsets: { [partition]: committed } } : (this.#o.from ?? "latest");
    const sub = this.#client.subscribe<T>(this.#o.topic, { partitions: [partition], from }, (rec) =>
      this.#offer(rec),
    );
    this.#subs.set(partition, sub);
    sub.closed.then((e) => {
      if (e && this.#subs.get(partition) === sub) this.#fail(e);
    });
  }

  /** Hands a record to the consumer; resolves once it is taken, which is the backpressure. */
  #offer(rec: Rec<T>): Promise<void> {
    if (!this.#subs.has(rec.partition) || this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      this.#queue.push({
        rec,
        taken: () => {
          this.#consumed.set(rec.partition, rec.offset + 1);
          resolve();
        },
      });
      this.#wake?.();
    });
  }

  #revoke(partition: number): void {
    const sub = this.#subs.get(partition);
    this.#subs.delete(partition);
    // Records of this partition not yet taken are dropped: its next owner starts after the
    // last one taken, which is what the commit below carries.
    this.#queue = this.#queue.filter((p) => {
      if (p.rec.partition === partition) p.taken = () => {};
      return p.rec.partition !== partition;
    });
    this.#released.push({ topic: this.#o.topic, partition });
    sub?.close().finally(() => this.#heartbeat(true));
  }

  #commits() {
    const out = [];
    for (const [partition, offset] of this.#consumed)
      if (this.#committed.get(partition) !== offset)
        out.push({ topic: this.#o.topic, partition, offset });
    return out;
  }

  #schedule(ms: number): void {
    clearTimeout(this.#timer);
    if (!this.#closing) this.#timer = setTimeout(() => this.#heartbeat(false), ms);
  }

  /** One heartbeat at a time: commits (when due or asked), releases, and the new view. */
  #heartbeat(forceCommit: boolean): Promise<void> {
    this.#beat = this.#beat.then(() => this.#beatOnce(forceCommit));
    return this.#beat;
  }

  async #beatOnce(forceCommit: boolean): Promise<void> {
    const v = this.#view;
    if (!v || this.#closing) return;
    const due =
      forceCommit ||
      (this.#o.autoCommit !== false &&
        Date.now() - this.#lastCommit >= (this.#o.commitIntervalMs ?? 1_000));
    const commits = due || this.#released.length ? this.#commits() : [];
    const released = this.#released;
    this.#released = [];
    try {
      const view = await this.#api(`members/${v.memberId}/heartbeat`, "POST", {
        generation: v.generation,
        commits,
        released,
      });
      for (const c of commits) this.#committed.set(c.partition, c.offset);
      if (commits.length) this.#lastCommit = Date.now();
      this.#apply(view);
    } catch (error) {
      const e = error as KaitenClientError;
      if (e.code === "UNKNOWN_MEMBER" || e.code === "FENCED") return this.#rejoin();
      if (!e.retriable && e.code !== "CONNECTION_LOST" && e instanceof KaitenClientError)
        return this.#fail(e);
      this.#released = [...released, ...this.#released];
      this.#schedule(1_000);
    }
  }

  /** Removed by the group (timed out, replaced): start again from the group's committed offsets. */
  async #rejoin(): Promise<void> {
    for (const p of [...this.#subs.keys()]) {
      const sub = this.#subs.get(p);
      this.#subs.delete(p);
      await sub?.close();
    }
    this.#queue = [];
    this.#consumed.clear();
    this.#committed.clear();
    this.#released = [];
    await this.#join().catch((e) => this.#fail(e));
  }

  #fail(error: Error): void {
    if (this.#closing) return;
    this.#closing = true;
    clearTimeout(this.#timer);
    for (const s of this.#subs.values()) s.close();
    this.#finish(error);
  }

  #finish(error: Error | undefined): void {
    this.#queue = [];
    this.#wake?.();
    this.#end.resolve(error);
  }
}

/** Joins `options.group` and consumes `options.topic` as one of its members. */
export function joinGroup<T = unknown>(
  client: Client,
  options: GroupOptions,
  callback?: (rec: Rec<T>) => unknown,
): GroupMember<T> {
  if (!client) throw closedError();
  return new GroupMember<T>(client, options, callback);
}
