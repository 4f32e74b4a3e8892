// Tokens on the embedded ledger for the token channel tests, with nothing but the token
// programs' documented instruction bytes: a mint (SPL Token or Token-2022, no extensions),
// associated token accounts, MintTo, and a token account's amount.
import {
  AccountRole,
  generateKeyPairSigner,
  getAddressEncoder,
  getBase64Encoder,
  getU64Encoder,
  type Address,
  type Instruction,
  type KeyPairSigner,
} from "@solana/kit";
import { ASSOCIATED_TOKEN_PROGRAM_ADDRESS, findAssociatedTokenAddress } from "../src/index.js";
import type { Ledger } from "./ledger.js";

const SYSTEM = "11111111111111111111111111111111" as Address;
const MINT_LEN = 82n;
const INITIALIZE_MINT_2 = 20;
const MINT_TO = 7;
const CREATE_IDEMPOTENT = 1;

const u64 = (value: bigint) => getU64Encoder().encode(value);
const signing = (signer: KeyPairSigner, role = AccountRole.WRITABLE_SIGNER) => ({
  address: signer.address,
  role,
  signer,
});

/// A new mint of `tokenProgram` with `decimals`; `authority` mints (and pays).
export async function createMint(
  ledger: Ledger,
  authority: KeyPairSigner,
  tokenProgram: Address,
  decimals: number,
): Promise<Address> {
  const mint = await generateKeyPairSigner();
  const rent = await ledger.rpc.getMinimumBalanceForRentExemption(MINT_LEN).send();
  const create = new Uint8Array(52); // SystemInstruction::CreateAccount
  create.set(u64(rent), 4);
  create.set(u64(MINT_LEN), 12);
  create.set(getAddressEncoder().encode(tokenProgram), 20);
  const initialize = new Uint8Array(35); // [20, decimals, authority, no freeze authority]
  initialize[0] = INITIALIZE_MINT_2;
  initialize[1] = decimals;
  initialize.set(getAddressEncoder().encode(authority.address), 2);
  const instructions: Instruction[] = [
    { programAddress: SYSTEM, accounts: [signing(authority), signing(mint)], data: create },
    {
      programAddress: tokenProgram,
      accounts: [{ address: mint.address, role: AccountRole.WRITABLE }],
      data: initialize,
    },
  ];
  await ledger.send(authority, instructions);
  return mint.address;
}

/// Creates `owner`'s associated token account for `mint` if it does not exist yet.
export async function createAssociatedAccount(
  ledger: Ledger,
  payer: KeyPairSigner,
  owner: Address,
  mint: Address,
  tokenProgram: Address,
): Promise<Address> {
  const account = await findAssociatedTokenAddress({ owner, mint, tokenProgram });
  await ledger.send(payer, [
    {
      programAddress: ASSOCIATED_TOKEN_PROGRAM_ADDRESS,
      accounts: [
        signing(payer),
        { address: account, role: AccountRole.WRITABLE },
        { address: owner, role: AccountRole.READONLY },
        { address: mint, role: AccountRole.READONLY },
        { address: SYSTEM, role: AccountRole.READONLY },
        { address: tokenProgram, role: AccountRole.READONLY },
      ],
      data: new Uint8Array([CREATE_IDEMPOTENT]),
    },
  ]);
  return account;
}

/// Mints `amount` base units into `owner`'s associated token account (created if need be).
export async function mintTo(
  ledger: Ledger,
  authority: KeyPairSigner,
  mint: Address,
  tokenProgram: Address,
  owner: Address,
  amount: bigint,
): Promise<Address> {
  const account = await createAssociatedAccount(ledger, authority, owner, mint, tokenProgram);
  const data = new Uint8Array(9);
  data[0] = MINT_TO;
  data.set(u64(amount), 1);
  await ledger.send(authority, [
    {
      programAddress: tokenProgram,
      accounts: [
        { address: mint, role: AccountRole.WRITABLE },
        { address: account, role: AccountRole.WRITABLE },
        signing(authority, AccountRole.READONLY_SIGNER),
      ],
      data,
    },
  ]);
  return account;
}

/// The amount a token account holds (undefined: no such account).
export async function tokenAmount(ledger: Ledger, account: Address): Promise<bigint | undefined> {
  const { value } = await ledger.rpc.getAccountInfo(account, { encoding: "base64", commitment: "confirmed" }).send();
  if (value === null) return undefined;
  const data = getBase64Encoder().encode(value.data[0]);
  return new DataView(data.buffer, data.byteOffset).getBigUint64(64, true);
}

/// Whether an account exists.
export async function exists(ledger: Ledger, address: Address): Promise<boolean> {
  const { value } = await ledger.rpc.getAccountInfo(address, { encoding: "base64", commitment: "confirmed" }).send();
  return value !== null;
}
