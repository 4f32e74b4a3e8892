// The 160 bytes both parties sign for every channel state (protocol §5), and signing them.
//
//   0   16  domain tag  "paychan/state/v1"
//   16  32  program address
//   48  32  channel address
//   80   8  openedSlot  u64 LE   (binds the state to this incarnation of the PDA)
//   88  72  the state: seq, depositedA, depositedB, balanceA, balanceB (u64 LE), logRoot (32)
//
// The state part is exactly the generated `ChannelState` codec, the layout the channel
// account stores a registered state in.
import {
  createSignableMessage,
  getAddressEncoder,
  getPublicKeyFromAddress,
  getU64Encoder,
  verifySignature,
  type Address,
  type MessagePartialSigner,
  type ReadonlyUint8Array,
  type SignatureBytes,
} from "@solana/kit";
import type { Channel } from "./generated/accounts/index.js";
import { PAYCHAN_PROGRAM_ADDRESS } from "./generated/programs/index.js";
import { getChannelStateEncoder, type ChannelStateArgs } from "./generated/types/index.js";

export const STATE_DOMAIN = new TextEncoder().encode("paychan/state/v1");
export const STATE_MESSAGE_LENGTH = 160;

/// Refuses bytes that cannot be a state message, before they are signed or sent.
export function assertStateMessageLength(message: ReadonlyUint8Array): void {
  if (message.length !== STATE_MESSAGE_LENGTH) {
    throw new Error(`a state message is ${STATE_MESSAGE_LENGTH} bytes, not ${message.length}`);
  }
}

/// Which channel incarnation a state belongs to: checked by the program, never chosen by a party.
export type StateBinding = {
  channel: Address;
  openedSlot: bigint | number;
  /** Defaults to the paychan program address. */
  programAddress?: Address;
};

/// The binding of an open channel, from its account as fetched: its address, its opening slot,
/// and the program that owns it (a deployment at any address, not only the development one).
export function getStateBinding(channel: {
  address: Address;
  programAddress?: Address;
  data: Pick<Channel, "openedSlot">;
}): StateBinding {
  return {
    channel: channel.address,
    openedSlot: channel.data.openedSlot,
    programAddress: channel.programAddress ?? PAYCHAN_PROGRAM_ADDRESS,
  };
}

/// The implicit seq-0 state: everyone holds what they deposited. It is never signed.
export function getOpeningState(depositedA: bigint, depositedB: bigint): ChannelStateArgs {
  return {
    seq: 0n,
    depositedA,
    depositedB,
    balanceA: depositedA,
    balanceB: depositedB,
    logRoot: new Uint8Array(32),
  };
}

/// The exact bytes both parties sign for `state` of the channel `binding` names.
export function getStateMessage(state: ChannelStateArgs, binding: StateBinding): Uint8Array {
  const addresses = getAddressEncoder();
  const message = new Uint8Array(STATE_MESSAGE_LENGTH);
  message.set(STATE_DOMAIN, 0);
  message.set(addresses.encode(binding.programAddress ?? PAYCHAN_PROGRAM_ADDRESS), 16);
  message.set(addresses.encode(binding.channel), 48);
  message.set(getU64Encoder().encode(binding.openedSlot), 80);
  message.set(getChannelStateEncoder().encode(state), 88);
  return message;
}

/// One party's signature over a state message, with the key that made it.
export type StateSignature = { signer: Address; signature: SignatureBytes };

/// Signs a state message with a state-signing key (a session `KeyPairSigner`, or a wallet that
/// signs raw messages).
export async function signStateMessage(
  signer: MessagePartialSigner,
  message: ReadonlyUint8Array,
): Promise<StateSignature> {
  assertStateMessageLength(message);
  const [signatures] = await signer.signMessages([createSignableMessage(new Uint8Array(message))]);
  const signature = signatures?.[signer.address];
  if (!signature) {
    throw new Error(`${signer.address} returned no signature for the state`);
  }
  return { signer: signer.address, signature };
}

/// Whether the peer's signature over `message` is valid: check it before relying on a state.
export async function verifyStateSignature(
  { signer, signature }: StateSignature,
  message: ReadonlyUint8Array,
): Promise<boolean> {
  return verifySignature(await getPublicKeyFromAddress(signer), signature, message);
}
