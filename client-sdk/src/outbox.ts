/**
 * The tracker's outbox in IndexedDB: batches written before they are sent and deleted once
 * the broker stored them, so a batch of a page that was closed or crashed is sent by the
 * next page of the same origin. Where IndexedDB is missing or refused, batches live in
 * memory only.
 */
export interface Row {
  /** The batch's producer id: unique per batch, so any copy of it is stored once. */
  id: string;
  /** Where it goes: the produce URL of its topic. */
  url: string;
  /** The JSON request body. */
  body: string;
}

const STORE = "outbox";

export class Outbox {
  readonly #db: Promise<IDBDatabase | undefined>;

  constructor(name: string) {
    this.#db = new Promise((resolve) => {
      try {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "id" });
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => resolve(undefined);
      } catch {
        resolve(undefined);
      }
    });
  }

  /** Runs one request in its own transaction; resolves with its result, or undefined without a store. */
  async #run<T>(make: (store: IDBObjectStore) => IDBRequest<T>): Promise<T | undefined> {
    const db = await this.#db;
    return new Promise((resolve) => {
      try {
        if (!db) return resolve(undefined);
        const req = make(db.transaction(STORE, "readwrite").objectStore(STORE));
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => resolve(undefined);
      } catch {
        resolve(undefined);
      }
    });
  }

  put(row: Row): Promise<unknown> {
    return this.#run((s) => s.put(row));
  }

  delete(id: string): Promise<unknown> {
    return this.#run((s) => s.delete(id));
  }

  all(): Promise<Row[]> {
    return this.#run((s) => s.getAll() as IDBRequest<Row[]>).then((rows) => rows ?? []);
  }
}
