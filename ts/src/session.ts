// Paying through a channel from a web page or a Node.js agent: the engine and peer link run in
// WebAssembly (crates/paychan-wasm), over a WebSocket to a `paychan node --listen-ws`. The
// session key signs every state; the wallet signed only Open.
//
// Every call into the engine returns records to persist, bytes to send and events. They are
// carried out in that order, one step at a time: the records are durable (the store's
// `append` resolved) before the bytes that depend on them leave — "persist before you sign"
// holds in the page as on the node. A page reloaded mid-payment rebuilds the session from
// what it persisted.
import {
  fetchEncodedAccount,
  getAddressEncoder,
  type Address,
  type GetAccountInfoApi,
  type Rpc,
} from "@solana/kit";
import initWasm, { initSync, Session, SessionConfig, type Step } from "../wasm/paychan.js";
import { fetchUnixTimestamp } from "./clock.js";
import { PAYCHAN_PROGRAM_ADDRESS } from "./generated/programs/index.js";
import type { CoSignedState } from "./ed25519.js";
import type { StateSignature } from "./state.js";

/// Where a session's records live (IndexedDB in a browser, a file in Node, memory in tests).
export interface SessionStore {
  /// Every record appended for `channel`, in order (none for a new channel).
  load(channel: Address): Promise<Uint8Array[]>;
  /// Makes `records` durable after the earlier ones; resolves once they are.
  append(channel: Address, records: Uint8Array[]): Promise<void>;
}

/// Records in memory: for tests, and pages that accept losing a channel's state on reload.
export class MemorySessionStore implements SessionStore {
  readonly records = new Map<Address, Uint8Array[]>();
  async load(channel: Address): Promise<Uint8Array[]> {
    return [...(this.records.get(channel) ?? [])];
  }
  async append(channel: Address, records: Uint8Array[]): Promise<void> {
    this.records.set(channel, [...(this.records.get(channel) ?? []), ...records]);
  }
}

/// Loads the WebAssembly module once: from its bytes (Node.js), or by URL (a browser; default:
/// next to this module).
let loaded: Promise<void> | undefined;
export function loadPaychanWasm(source?: BufferSource | URL | string): Promise<void> {
  loaded ??= (async () => {
    if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) {
      initSync({ module: source });
    } else {
      await initWasm({ module_or_path: source ?? new URL("../wasm/paychan_bg.wasm", import.meta.url) });
    }
  })();
  return loaded;
}

/// The WebSocket a session runs over (the browser's, or the `ws` package's in Node).
export interface SessionSocket {
  binaryType: string;
  send(data: Uint8Array): void;
  close(): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: unknown) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type SessionEvent =
  | { type: "connected" }
  | { type: "paid"; seq: number; count: number; amount: number; ids: string[] }
  | { type: "received"; seq: number; count: number; amount: number; ids: string[] }
  | { type: "dropped"; count: number; amount: number; ids: string[] }
  | { type: string; [key: string]: unknown };

export type ChannelSessionOptions = {
  /// The node's WebSocket (`ws://host:port/`, from `paychan node --listen-ws`).
  url: string;
  channel: Address;
  openedSlot: bigint;
  signerA: Address;
  signerB: Address;
  /// This party's side ("a": it opened the channel).
  me: "a" | "b";
  /// The 32-byte seed of this party's session key (its state signer in the channel).
  sessionKeySeed: Uint8Array;
  store: SessionStore;
  programAddress?: Address;
  /// A WebSocket constructor (default: the platform's).
  WebSocket?: new (url: string) => SessionSocket;
  onEvent?: (event: SessionEvent) => void;
};

/// A channel session over a WebSocket: pays, receives, reports events, and keeps the newest
/// co-signed state (the receipt StartClose and Dispute prove on-chain).
export class ChannelSession {
  private queue: Promise<void> = Promise.resolve();
  private failure: unknown;
  private keepalives: ReturnType<typeof setInterval> | undefined;
  private readonly listeners = new Set<(event: SessionEvent) => void>();

  private constructor(
    private readonly session: Session,
    private readonly socket: SessionSocket,
    private readonly options: ChannelSessionOptions,
  ) {}

  /// As `open`, retried until the node serves the channel (it refuses the link until it has
  /// discovered a newly opened channel, within its discovery interval) or `deadlineMs`
  /// passes; then the session learns the channel's deposits from the chain (`syncChain`).
  static async openWhenServed(
    options: ChannelSessionOptions & { rpc: Rpc<GetAccountInfoApi>; deadlineMs?: number; retryMs?: number },
  ): Promise<ChannelSession> {
    const deadline = Date.now() + (options.deadlineMs ?? 30_000);
    for (;;) {
      try {
        const session = await ChannelSession.open(options);
        await session.syncChain(options.rpc);
        return session;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, options.retryMs ?? 100));
      }
    }
  }

  /// Rebuilds the session from the store, opens the WebSocket and authenticates the link.
  static async open(options: ChannelSessionOptions): Promise<ChannelSession> {
    await loadPaychanWasm();
    const encode = (address: Address) => new Uint8Array(getAddressEncoder().encode(address));
    const config = new SessionConfig(
      encode(options.programAddress ?? PAYCHAN_PROGRAM_ADDRESS),
      encode(options.channel),
      options.openedSlot,
      encode(options.signerA),
      encode(options.signerB),
      options.me === "a",
      options.sessionKeySeed,
    );
    const session = new Session(config, await options.store.load(options.channel));
    const Socket = options.WebSocket ?? (globalThis as unknown as { WebSocket: new (url: string) => SessionSocket }).WebSocket;
    const socket = new Socket(options.url);
    socket.binaryType = "arraybuffer";
    const channel = new ChannelSession(session, socket, options);
    if (options.onEvent) channel.listeners.add(options.onEvent);
    await new Promise<void>((resolve, reject) => {
      const connected = (event: SessionEvent) => {
        if (event.type === "connected") {
          channel.listeners.delete(connected);
          resolve();
        }
      };
      channel.listeners.add(connected);
      socket.onerror = (error) => reject(new Error(`the WebSocket to ${options.url} failed: ${String(error)}`));
      socket.onclose = () => {
        session.disconnected();
        reject(new Error(`the WebSocket to ${options.url} closed before the link was up`));
      };
      socket.onmessage = (message) => {
        const bytes = new Uint8Array(message.data as ArrayBuffer);
        channel.run(() => session.receive(bytes));
      };
      socket.onopen = () => channel.run(() => session.connect());
    });
    socket.onclose = () => {
      clearInterval(channel.keepalives);
      session.disconnected();
      channel.emit({ type: "disconnected" });
    };
    // The node gives up on a peer silent for 30 s. Through the queue: the keepalive's bytes
    // must leave after every step before it (each takes the next Noise nonce).
    channel.keepalives = setInterval(() => void channel.run(() => session.keepalive()), 10_000);
    return channel;
  }

  /// Runs one engine call and carries out its step, after every earlier step.
  private run(call: () => Step): Promise<void> {
    this.queue = this.queue.then(async () => {
      if (this.failure !== undefined) return;
      try {
        const step = call();
        const records = step.persist as Uint8Array[];
        if (records.length > 0) await this.options.store.append(this.options.channel, records);
        const bytes = step.send;
        if (bytes.length > 0) this.socket.send(bytes);
        for (const json of step.events) this.emit(JSON.parse(json) as SessionEvent);
        step.free();
      } catch (error) {
        // A store that cannot persist, or a peer that broke the protocol: nothing more is
        // sent (what was not persisted never leaves), and waiting payments are told.
        this.failure = error;
        this.socket.close();
        this.emit({ type: "failed", message: String(error) });
      }
    });
    return this.queue;
  }

  private emit(event: SessionEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }

  /// Pays `amount` (lamports, or the mint's base units) `count` times; resolves when every one
  /// is final (co-signed, and persisted by both sides); rejects if the session fails or its
  /// link closes first (payments not yet final are retried on the next link of a session
  /// rebuilt from the store).
  async pay(amount: bigint, count = 1): Promise<void> {
    // Only these payments count: a round completed on reconnecting (payments made before a
    // restart) reports its own.
    const ids = Array.from({ length: count }, () => crypto.getRandomValues(new Uint8Array(16)));
    const waiting = new Set(ids.map((id) => Array.from(id, (b) => b.toString(16).padStart(2, "0")).join("")));
    const done = new Promise<void>((resolve, reject) => {
      const listener = (event: SessionEvent) => {
        const mine = ("ids" in event && Array.isArray(event.ids) ? (event.ids as string[]) : []).filter((id) =>
          waiting.has(id),
        );
        if (event.type === "paid") mine.forEach((id) => waiting.delete(id));
        if (event.type === "dropped" && mine.length > 0) reject(new Error(`${mine.length} payments were dropped`));
        if (event.type === "failed") reject(new Error(`the session failed: ${String(event.message)}`));
        if (event.type === "disconnected") reject(new Error(`the link closed with ${waiting.size} payments not final`));
        if (waiting.size === 0) {
          this.listeners.delete(listener);
          resolve();
        }
      };
      this.listeners.add(listener);
    });
    for (const id of ids) void this.run(() => this.session.pay(amount, id));
    await this.queue;
    if (this.failure !== undefined) throw this.failure;
    return done;
  }

  /// The channel account (its raw bytes) and the chain's unix time: deposits the engine needs.
  async chain(account: Uint8Array, unixTimestamp: bigint): Promise<void> {
    await this.run(() => this.session.chain(account, unixTimestamp));
  }

  /// Reads the channel account and the Clock from `rpc` and hands them to the engine (after
  /// opening, and whenever deposits may have changed).
  async syncChain(rpc: Rpc<GetAccountInfoApi>): Promise<void> {
    const [account, now] = await Promise.all([
      fetchEncodedAccount(rpc, this.options.channel),
      fetchUnixTimestamp(rpc),
    ]);
    if (!account.exists) throw new Error(`no channel at ${this.options.channel}`);
    await this.chain(new Uint8Array(account.data), now);
  }

  /// The newest state: its seq and both balances.
  newest(): { seq: bigint; balanceA: bigint; balanceB: bigint } {
    const [seq, balanceA, balanceB] = this.session.newest();
    return { seq: seq!, balanceA: balanceA!, balanceB: balanceB! };
  }

  /// The newest state both signed: what `getStartCloseWithStateInstructions` registers.
  newestCoSigned(): CoSignedState | undefined {
    const bytes = this.session.newest_co_signed();
    if (bytes.length === 0) return undefined;
    const signature = (at: number, signer: Address): StateSignature => ({
      signer,
      signature: bytes.slice(at, at + 64) as StateSignature["signature"],
    });
    return {
      message: bytes.slice(0, 160),
      a: signature(160, this.options.signerA),
      b: signature(224, this.options.signerB),
    };
  }

  onEvent(listener: (event: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    clearInterval(this.keepalives);
    this.socket.close();
  }
}
