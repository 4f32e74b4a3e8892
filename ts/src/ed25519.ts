// The one Ed25519 precompile instruction paychan accepts (protocol §5): both signatures over one
// state message, in the instruction itself, signer A first. StartClose and Dispute read the
// co-signed state from this instruction, placed immediately before them.
//
//   0    1   number of signatures = 2
//   1    1   padding = 0
//   2   14   offsets of signature A  } each u16 LE: signature, its instruction, public key, its
//   16  14   offsets of signature B  } instruction, message, message length, its instruction
//   30  64   signature A
//   94  32   public key A
//   126 64   signature B
//   190 32   public key B
//   222 160  the state message
//
// Every instruction index is 0xFFFF ("this instruction"); the program refuses any other layout.
import {
  address,
  getAddressEncoder,
  type Address,
  type Instruction,
  type InstructionWithData,
  type ReadonlyUint8Array,
  type TransactionSigner,
} from "@solana/kit";
import {
  getDisputeInstruction,
  getDisputeInstructionAsync,
  getStartCloseInstruction,
  type StartCloseInstruction,
} from "./generated/instructions/index.js";
import { PAYCHAN_PROGRAM_ADDRESS } from "./generated/programs/index.js";
import { assertStateMessageLength, STATE_MESSAGE_LENGTH, type StateSignature } from "./state.js";

export const ED25519_PROGRAM_ADDRESS = address("Ed25519SigVerify111111111111111111111111111");

const THIS_INSTRUCTION = 0xffff;
const SIGNATURE_A_AT = 30;
const PUBLIC_KEY_A_AT = 94;
const SIGNATURE_B_AT = 126;
const PUBLIC_KEY_B_AT = 190;
const MESSAGE_AT = 222;
export const ED25519_DATA_LENGTH = MESSAGE_AT + STATE_MESSAGE_LENGTH; // 382

/// A state message with both parties' signatures: A's state-signing key first, then B's.
export type CoSignedState = {
  message: ReadonlyUint8Array;
  a: StateSignature;
  b: StateSignature;
};

export type Ed25519Instruction = Instruction<typeof ED25519_PROGRAM_ADDRESS> &
  InstructionWithData<Uint8Array>;

/// The precompile instruction proving both signatures over the state.
export function getCoSignedStateInstruction({ message, a, b }: CoSignedState): Ed25519Instruction {
  assertStateMessageLength(message);
  const data = new Uint8Array(ED25519_DATA_LENGTH);
  const view = new DataView(data.buffer);
  data[0] = 2;
  const signatures: [number, number][] = [
    [SIGNATURE_A_AT, PUBLIC_KEY_A_AT],
    [SIGNATURE_B_AT, PUBLIC_KEY_B_AT],
  ];
  for (const [i, [signatureAt, publicKeyAt]] of signatures.entries()) {
    const offsets = [signatureAt, THIS_INSTRUCTION, publicKeyAt, THIS_INSTRUCTION, MESSAGE_AT, STATE_MESSAGE_LENGTH, THIS_INSTRUCTION];
    offsets.forEach((value, j) => view.setUint16(2 + 14 * i + 2 * j, value, true));
  }
  const addresses = getAddressEncoder();
  data.set(a.signature, SIGNATURE_A_AT);
  data.set(addresses.encode(a.signer), PUBLIC_KEY_A_AT);
  data.set(b.signature, SIGNATURE_B_AT);
  data.set(addresses.encode(b.signer), PUBLIC_KEY_B_AT);
  data.set(message, MESSAGE_AT);
  return { programAddress: ED25519_PROGRAM_ADDRESS, data };
}

/// StartClose registering a co-signed state: the precompile instruction, then StartClose.
/// Put both in one transaction, in this order.
/// `programAddress`: the deployment (default: the development program id).
export function getStartCloseWithStateInstructions(input: {
  registrant: TransactionSigner;
  channel: Address;
  state: CoSignedState;
  programAddress?: Address;
}): [Ed25519Instruction, StartCloseInstruction] {
  return [
    getCoSignedStateInstruction(input.state),
    getStartCloseInstruction(
      { registrant: input.registrant, channel: input.channel, withState: true },
      { programAddress: input.programAddress ?? PAYCHAN_PROGRAM_ADDRESS },
    ) as StartCloseInstruction,
  ];
}

/// The Dispute instruction (its type lists a token channel's optional accounts too; a lamport
/// channel's instruction carries only the first five).
export type DisputeWithStateInstruction = ReturnType<typeof getDisputeInstruction>;

/// Dispute's inputs: the channel and the wallets, and for a token channel its vault, mint,
/// token program and the parties' payout token accounts (leave them out for a lamport channel).
export type DisputeWithStateInput = {
  submitter: TransactionSigner;
  channel: Address;
  partyA: Address;
  partyB: Address;
  state: CoSignedState;
  vault?: Address;
  mint?: Address;
  tokenProgram?: Address;
  destinationA?: Address;
  destinationB?: Address;
  /** The deployment (default: the development program id). */
  programAddress?: Address;
};

/// Dispute with a newer co-signed state: the precompile instruction, then Dispute. A token
/// channel's accounts must all be given (`getDisputeWithStateInstructionsAsync` derives them).
export function getDisputeWithStateInstructions(
  input: DisputeWithStateInput,
): [Ed25519Instruction, DisputeWithStateInstruction] {
  const { state, programAddress, ...accounts } = input;
  return [
    getCoSignedStateInstruction(state),
    getDisputeInstruction(accounts, { programAddress: programAddress ?? PAYCHAN_PROGRAM_ADDRESS }) as DisputeWithStateInstruction,
  ];
}

/// As `getDisputeWithStateInstructions`; for a token channel, given its mint and token program,
/// derives the vault and the parties' associated token accounts.
export async function getDisputeWithStateInstructionsAsync(
  input: DisputeWithStateInput,
): Promise<[Ed25519Instruction, DisputeWithStateInstruction]> {
  const { state, programAddress, ...accounts } = input;
  const dispute = await getDisputeInstructionAsync(accounts, {
    programAddress: programAddress ?? PAYCHAN_PROGRAM_ADDRESS,
  });
  return [getCoSignedStateInstruction(state), dispute as DisputeWithStateInstruction];
}
