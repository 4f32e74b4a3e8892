// The chain's time as the program reads it: the Clock sysvar's unix_timestamp (byte 32).
import { address, fetchEncodedAccount, type GetAccountInfoApi, type Rpc } from "@solana/kit";

const CLOCK_SYSVAR = address("SysvarC1ock11111111111111111111111111111111");

export async function fetchUnixTimestamp(rpc: Rpc<GetAccountInfoApi>): Promise<bigint> {
  const clock = await fetchEncodedAccount(rpc, CLOCK_SYSVAR);
  if (!clock.exists) throw new Error("the RPC node serves no Clock sysvar");
  const data = clock.data;
  return new DataView(data.buffer, data.byteOffset, data.byteLength).getBigInt64(32, true);
}
