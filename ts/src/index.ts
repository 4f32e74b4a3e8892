// @paychan/client: the paychan program for @solana/kit.
//
// - generated/ (from idl/paychan.json by Codama): instruction builders, the channel account,
//   the PDAs (lamport and token channels, vaults, associated token accounts), defined types,
//   error codes and messages. A token channel's instructions take its token accounts as
//   optional trailing accounts; the async builders derive the vault and the associated token
//   accounts from the mint and token program.
// - state: the 160 bytes both parties sign, signing and verifying them.
// - ed25519: the two-signature precompile instruction StartClose and Dispute read.
// - errors: the paychan error behind a failed transaction.
// - token: token channels' addresses (channel, vault, associated token accounts) and the token
//   accounts a channel's instructions take, read from its account.
// - session: paying through a channel from a page or an agent, the engine in WebAssembly over
//   a WebSocket to a `paychan node --listen-ws`.
// - watch: guarding a channel from the page or agent that pays (dispute a stale close,
//   finalize after the window) and previewing its payouts.
export * from "./generated/index.js";
export * from "./state.js";
export * from "./ed25519.js";
export * from "./errors.js";
export * from "./token.js";
export * from "./watch.js";
export * from "./session.js";
export * from "./session-store-idb.js";
