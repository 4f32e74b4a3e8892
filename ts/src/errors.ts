// From a failed transaction to the paychan error that failed it: its code, its name (as the
// program logs it) and its message. The generated module has the codes and messages; this adds
// the names and the unwrapping of kit's errors and of logs.
import {
  isSolanaError,
  SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM,
  SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE,
  type Address,
} from "@solana/kit";
import * as codes from "./generated/errors/paychan.js";
import { getPaychanErrorMessage, type PaychanError } from "./generated/errors/paychan.js";
import { PAYCHAN_PROGRAM_ADDRESS } from "./generated/programs/index.js";

export type PaychanErrorInfo = {
  code: PaychanError;
  /** The name the program logs, e.g. `SignerKeysMismatch`. */
  name: string;
  message: string;
};

const CODE_PREFIX = "PAYCHAN_ERROR__";

/// `PAYCHAN_ERROR__SIGNER_KEYS_MISMATCH` → `SignerKeysMismatch`.
function pascalCase(constant: string): string {
  return constant
    .slice(CODE_PREFIX.length)
    .split("_")
    .map((word) => word.charAt(0) + word.slice(1).toLowerCase())
    .join("");
}

const NAMES = new Map<number, string>(
  Object.entries(codes)
    .filter(([key, value]) => key.startsWith(CODE_PREFIX) && typeof value === "number")
    .map(([key, value]) => [value as number, pascalCase(key)]),
);

/// The paychan error with this custom program error code, if there is one.
export function getPaychanErrorInfo(code: number): PaychanErrorInfo | undefined {
  const name = NAMES.get(code);
  if (name === undefined) return undefined;
  return { code: code as PaychanError, name, message: getPaychanErrorMessage(code as PaychanError) };
}

const LOG_LINE = /paychan error (\d+) (\w+): /;

/// The error a transaction's logs name (the program logs `paychan error <code> <Name>: <message>`).
export function getPaychanErrorFromLogs(logs: readonly string[]): PaychanErrorInfo | undefined {
  for (const line of logs) {
    const found = LOG_LINE.exec(line);
    if (found) return getPaychanErrorInfo(Number(found[1]));
  }
  return undefined;
}

/// The paychan error behind an error thrown by kit (`sendAndConfirmTransaction`,
/// `simulateTransaction`, …), if paychan failed the transaction. Pass the transaction message
/// so an error of another program with the same custom code is not taken for paychan's.
/// `config.programAddress`: the deployment whose errors these are (default: the development
/// program id).
export function getPaychanErrorFromTransactionError(
  error: unknown,
  transactionMessage?: { instructions: Record<number, { programAddress: Address }> },
  config?: { programAddress?: Address },
): PaychanErrorInfo | undefined {
  const paychan = config?.programAddress ?? PAYCHAN_PROGRAM_ADDRESS;
  let logs: readonly string[] | undefined;
  for (let cause: unknown = error; cause !== undefined; cause = (cause as { cause?: unknown }).cause) {
    if (isSolanaError(cause, SOLANA_ERROR__JSON_RPC__SERVER_ERROR_SEND_TRANSACTION_PREFLIGHT_FAILURE)) {
      logs = cause.context.logs ?? undefined;
    }
    if (isSolanaError(cause, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM)) {
      const program = transactionMessage?.instructions[cause.context.index]?.programAddress;
      if (program !== undefined && program !== paychan) return undefined;
      return getPaychanErrorInfo(cause.context.code);
    }
    if (cause === null || typeof cause !== "object") break;
  }
  return logs ? getPaychanErrorFromLogs(logs) : undefined;
}
