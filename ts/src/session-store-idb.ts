// A session's records in the browser's IndexedDB: one object store, one entry per record,
// keyed by channel and position, written in one transaction per step (its `complete` is the
// durability point ChannelSession waits for before it sends).
import type { Address } from "@solana/kit";
import type { SessionStore } from "./session.js";

const STORE = "records";

export class IndexedDbSessionStore implements SessionStore {
  private database: Promise<IDBDatabase> | undefined;

  /// `name`: the IndexedDB database (one per app; channels are keyed inside it).
  constructor(private readonly name = "paychan") {}

  private open(): Promise<IDBDatabase> {
    this.database ??= new Promise((resolve, reject) => {
      const request = indexedDB.open(this.name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return this.database;
  }

  async load(channel: Address): Promise<Uint8Array[]> {
    const database = await this.open();
    return new Promise((resolve, reject) => {
      const request = database
        .transaction(STORE, "readonly")
        .objectStore(STORE)
        .getAll(IDBKeyRange.bound([channel, 0], [channel, Number.MAX_SAFE_INTEGER]));
      request.onsuccess = () => resolve((request.result as ArrayBuffer[]).map((r) => new Uint8Array(r)));
      request.onerror = () => reject(request.error);
    });
  }

  async append(channel: Address, records: Uint8Array[]): Promise<void> {
    const database = await this.open();
    const count = await new Promise<number>((resolve, reject) => {
      const request = database
        .transaction(STORE, "readonly")
        .objectStore(STORE)
        .count(IDBKeyRange.bound([channel, 0], [channel, Number.MAX_SAFE_INTEGER]));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    await new Promise<void>((resolve, reject) => {
      // "strict": the transaction completes only once the records are on disk.
      const transaction = database.transaction(STORE, "readwrite", { durability: "strict" });
      const store = transaction.objectStore(STORE);
      records.forEach((record, i) => store.put(record.slice().buffer, [channel, count + i]));
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }
}
