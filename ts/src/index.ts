// @paychan/client: the paychan program for @solana/kit.
//
// - generated/ (from idl/paychan.json by Codama): instruction builders, the channel account
//   and its PDA, defined types, error codes and messages.
// - state: the 160 bytes both parties sign, signing and verifying them.
// - ed25519: the two-signature precompile instruction StartClose and Dispute read.
// - errors: the paychan error behind a failed transaction.
export * from "./generated/index.js";
export * from "./state.js";
export * from "./ed25519.js";
export * from "./errors.js";
