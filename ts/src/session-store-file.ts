// A session's records in a file per channel, for Node.js agents (import it from
// "@paychan/client/node"; browsers use IndexedDbSessionStore). Each append writes
// `u32 BE length ‖ record` for every record and syncs the file before it resolves: that sync is
// the durability point ChannelSession waits for before it sends. A crash mid-append leaves a
// torn last record, which `load` drops — it was never acknowledged, so nothing that depended
// on it was sent.
import { mkdir, open, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Address } from "@solana/kit";
import type { SessionStore } from "./session.js";

export class FileSessionStore implements SessionStore {
  /// `dir`: where each channel's file (`<channel>.records`) lives; created if missing.
  constructor(private readonly dir: string) {}

  private path(channel: Address): string {
    return join(this.dir, `${channel}.records`);
  }

  async load(channel: Address): Promise<Uint8Array[]> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(this.path(channel)));
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return [];
      throw error;
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const records: Uint8Array[] = [];
    for (let at = 0; at + 4 <= bytes.length; ) {
      const length = view.getUint32(at);
      if (at + 4 + length > bytes.length) break; // a torn last record: never acknowledged
      records.push(bytes.slice(at + 4, at + 4 + length));
      at += 4 + length;
    }
    return records;
  }

  async append(channel: Address, records: Uint8Array[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const size = records.reduce((sum, record) => sum + 4 + record.length, 0);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const record of records) {
      view.setUint32(at, record.length);
      out.set(record, at + 4);
      at += 4 + record.length;
    }
    const file = await open(this.path(channel), "a");
    try {
      await file.write(out);
      await file.sync();
    } finally {
      await file.close();
    }
  }
}
