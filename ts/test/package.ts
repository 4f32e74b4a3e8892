// The package as an integrator gets it: every helper serves a deployment at any program
// address; the bundle a dApp ships runs in a browser-like context without Node's globals; and
// `npm pack` ships the built code with its README and LICENSE. No ledger needed.
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runInNewContext } from "node:vm";
import { gzipSync } from "node:zlib";
import { webcrypto } from "node:crypto";
import { address, generateKeyPairSigner, SolanaError, SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM } from "@solana/kit";
import * as esbuild from "esbuild";
import {
  findChannelPda,
  getDisputeWithStateInstructions,
  getPaychanErrorFromTransactionError,
  getStartCloseWithStateInstructions,
  getStateBinding,
  getStateMessage,
  getPaychanErrorMessage,
  PAYCHAN_PROGRAM_ADDRESS,
  type CoSignedState,
} from "../src/index.js";
import { assertEqual, run } from "./harness.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const DEPLOYMENT = address("Dep1oyment1111111111111111111111111111111111");

function state(seq: bigint) {
  return { seq, depositedA: 10n, depositedB: 0n, balanceA: 9n, balanceB: 1n, logRoot: new Uint8Array(32) };
}

await run({
  async every_helper_serves_a_deployment_at_another_program_address() {
    const channel = address("Chan1111111111111111111111111111111111111111");
    const binding = getStateBinding({ address: channel, programAddress: DEPLOYMENT, data: { openedSlot: 5n } });
    assertEqual(binding.programAddress, DEPLOYMENT, "the binding names the owning program");
    const message = getStateMessage(state(1n), binding);
    const named = new Uint8Array(message.slice(16, 48));
    const expected = (await import("@solana/kit")).getAddressEncoder().encode(DEPLOYMENT);
    assertEqual(Buffer.from(named).equals(Buffer.from(expected)), true, "the signed bytes name the deployment");

    const signer = await generateKeyPairSigner();
    const coSigned: CoSignedState = {
      message,
      a: { signer: signer.address, signature: new Uint8Array(64) as never },
      b: { signer: signer.address, signature: new Uint8Array(64) as never },
    };
    const [, startClose] = getStartCloseWithStateInstructions({
      registrant: signer, channel, state: coSigned, programAddress: DEPLOYMENT,
    });
    assertEqual<string>(startClose.programAddress, DEPLOYMENT, "StartClose goes to the deployment");
    const [, dispute] = getDisputeWithStateInstructions({
      submitter: signer, channel, partyA: signer.address, partyB: signer.address, state: coSigned,
      programAddress: DEPLOYMENT,
    });
    assertEqual<string>(dispute.programAddress, DEPLOYMENT, "Dispute goes to the deployment");

    // The error of a transaction whose paychan instruction went to the deployment
    const failed = new SolanaError(SOLANA_ERROR__INSTRUCTION_ERROR__CUSTOM, { code: 30, index: 0 });
    const sent = { instructions: { 0: { programAddress: DEPLOYMENT } } };
    assertEqual(getPaychanErrorFromTransactionError(failed, sent), undefined, "another program's code 30 is not ours by default");
    assertEqual(
      getPaychanErrorFromTransactionError(failed, sent, { programAddress: DEPLOYMENT })?.name,
      "StaleState",
      "the deployment's error is found by name",
    );
  },

  async the_modules_use_no_node_global_a_browser_lacks() {
    // A browser importing dist/ as native ES modules has no bundler to replace `process.env`
    // (the generated errors module once threw `process is not defined` at import).
    const { readdirSync, readFileSync, statSync } = await import("node:fs");
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? files(path) : path.endsWith(".js") ? [path] : [];
      });
    for (const file of files(join(root, "dist", "src"))) {
      const source = readFileSync(file, "utf8");
      const bare = /(^|[^.\w])(process|Buffer|require)\s*[.(]/m.exec(source);
      assertEqual(bare?.[0] ?? "none", "none", `a bare Node global in ${file}`);
    }
  },

  async the_browser_bundle_runs_without_node_globals() {
    const built = await esbuild.build({
      entryPoints: [join(root, "dist", "src", "index.js")],
      bundle: true,
      minify: true,
      format: "iife",
      globalName: "paychan",
      platform: "browser",
      write: false,
      // The session module finds its .wasm next to itself (import.meta.url); a page passes
      // the URL when it bundles as IIFE, as this test does.
      logLevel: "error",
    });
    const code = built.outputFiles[0]!.text;
    const gzipped = gzipSync(code).length;
    console.log(`@paychan/client browser bundle (with @solana/kit; the .wasm apart): ${code.length} bytes, ${gzipped} gzipped`);
    // Only what a browser has: no process, Buffer, require or module.
    const sandbox: Record<string, unknown> = {
      TextEncoder, TextDecoder, URL, console, crypto: webcrypto, setTimeout, clearTimeout,
      queueMicrotask, Uint8Array, AbortController, Event, EventTarget,
      // A page served over https or from localhost, as a dApp is: kit needs SubtleCrypto there.
      isSecureContext: true,
    };
    sandbox.globalThis = sandbox;
    sandbox.self = sandbox;
    runInNewContext(code, sandbox);
    for (const global of ["process", "Buffer", "require", "module"]) {
      assertEqual(global in sandbox, false, `no ${global} in the browser context`);
    }
    const lib = sandbox.paychan as typeof import("../src/index.js");
    const [a, b] = [address("11111111111111111111111111111112"), address("SysvarC1ock11111111111111111111111111111111")];
    const [inBrowser, bump] = await lib.findChannelPda({ partyA: a, partyB: b, nonce: 7n });
    const [inNode, nodeBump] = await findChannelPda({ partyA: a, partyB: b, nonce: 7n });
    assertEqual(inBrowser, inNode, "the channel PDA");
    assertEqual(bump, nodeBump, "its bump");
    assertEqual(lib.getPaychanErrorMessage(30 as never), getPaychanErrorMessage(30 as never), "error messages are kept");
    assertEqual(lib.PAYCHAN_PROGRAM_ADDRESS, PAYCHAN_PROGRAM_ADDRESS, "the program id");
  },

  async npm_pack_ships_the_built_package_with_its_readme_and_license() {
    const out = execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" });
    const files = new Set((JSON.parse(out)[0].files as { path: string }[]).map((f) => f.path));
    for (const needed of ["package.json", "README.md", "LICENSE", "dist/src/index.js", "dist/src/index.d.ts"]) {
      assertEqual(files.has(needed), true, `the package ships ${needed}`);
    }
    assertEqual([...files].some((f) => f.startsWith("dist/test") || f.startsWith("src/")), false, "no tests or sources");
  },
});
