// The browser demo (demo/index.html) in headless Chromium (Debian's, through puppeteer-core;
// nothing downloads a browser): the page opens a channel to a real `paychan node`, pays it
// 1,000 times over a WebSocket with the engine in WebAssembly and IndexedDB as its store,
// closes, and shows both balances; this checks them on the page and on the ledger, and keeps
// a screenshot.
// Usage: node dist/test/browser.js LEDGER_URL NODE_WS_URL NODE_WALLET CHROMIUM SCREENSHOT
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { address, createSolanaRpc } from "@solana/kit";
import * as esbuild from "esbuild";
import puppeteer from "puppeteer-core";
import { assertEqual, run } from "./harness.js";

const [ledgerUrl, nodeUrl, nodeWallet, chromium, screenshot] = process.argv.slice(2);
if (!ledgerUrl || !nodeUrl || !nodeWallet || !chromium || !screenshot) {
  console.error("usage: node dist/test/browser.js LEDGER_URL NODE_WS_URL NODE_WALLET CHROMIUM SCREENSHOT");
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const rpc = createSolanaRpc(ledgerUrl);

type Demo = {
  error?: string;
  wallet: string;
  paidToNode: string;
  walletBalance: string;
  unbatchedPerSecond: number;
  batchedPerSecond: number;
};

await run({
  async a_page_pays_a_node_a_thousand_times_and_closes() {
    // The page as a dApp would ship it: one ES module bundle, the .wasm beside it.
    const site = mkdtempSync(join(tmpdir(), "paychan-demo-"));
    await esbuild.build({
      entryPoints: [join(root, "demo", "app.ts"), join(root, "demo", "crash.ts")],
      bundle: true,
      format: "esm",
      platform: "browser",
      outdir: site,
      logLevel: "error",
    });
    copyFileSync(join(root, "demo", "index.html"), join(site, "index.html"));
    copyFileSync(join(root, "demo", "crash.html"), join(site, "crash.html"));
    copyFileSync(join(root, "wasm", "paychan_bg.wasm"), join(site, "paychan_bg.wasm"));
    const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
    const server = createServer((request, response) => {
      const name = (request.url ?? "/").split("?")[0]!.replace(/^\/+/, "") || "index.html";
      try {
        const body = readFileSync(join(site, name));
        response.writeHead(200, { "content-type": types[extname(name)] ?? "application/octet-stream" });
        response.end(body);
      } catch {
        response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;

    const nodeBefore = (await rpc.getBalance(address(nodeWallet)).send()).value;
    const browser = await puppeteer.launch({
      executablePath: chromium,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await browser.newPage();
      const console_: string[] = [];
      page.on("console", (message) => console_.push(message.text()));
      page.on("pageerror", (error) => console_.push(String(error)));
      await page.setViewport({ width: 900, height: 700 });
      const query = new URLSearchParams({ ledger: ledgerUrl, node: nodeUrl, wallet: nodeWallet, auto: "1" });
      await page.goto(`http://127.0.0.1:${port}/index.html?${query}`);
      await page.waitForFunction(() => (window as unknown as { paychanDemo?: unknown }).paychanDemo !== undefined, {
        timeout: 120_000,
      });
      const demo = (await page.evaluate(() => (window as unknown as { paychanDemo: unknown }).paychanDemo)) as Demo;
      await page.screenshot({ path: screenshot as `${string}.png` });
      if (demo.error) throw new Error(`the page failed: ${demo.error}\n${console_.join("\n")}`);
      console.log(
        `one Chromium tab paid a node ${demo.unbatchedPerSecond} payments/s one at a time, ` +
          `${demo.batchedPerSecond}/s handed over at once (IndexedDB, strict durability); screenshot in ${screenshot}`,
      );

      // On the page
      assertEqual(await page.$eval("#status", (e) => e.textContent), "done", "the page's status");
      assertEqual(await page.$eval("#progress", (e) => (e as HTMLProgressElement).value), 1000, "the progress bar");
      assertEqual(await page.$eval("#theirs", (e) => e.textContent), "0.1000 SOL", "the node's balance shown");
      assertEqual(await page.$eval("#mine", (e) => e.textContent), "0.9000 SOL", "the page's balance shown");
      assertEqual(demo.paidToNode, "100000000", "1,000 × 0.0001 SOL");
      // On the ledger
      const wallet = (await rpc.getBalance(address(demo.wallet)).send()).value;
      assertEqual(wallet.toString(), demo.walletBalance, "the wallet's balance the page showed");
      assertEqual(wallet > 1_800_000_000n, true, `the page's wallet got its 0.9 SOL and the rent back (${wallet})`);
      const nodeGot = (await rpc.getBalance(address(nodeWallet)).send()).value - nodeBefore;
      // The node may have finalized itself (paying that fee) before the page did.
      assertEqual(nodeGot >= 100_000_000n - 10_000n && nodeGot <= 100_000_000n, true, `the node was paid (${nodeGot})`);
      // The page killed between persisting and sending: IndexedDB's write of the 8th step
      // hangs, the test kills the tab; a new tab rebuilds the session from IndexedDB.
      const dying = await browser.newPage();
      dying.on("console", (message) => console_.push(`dying page: ${message.text()}`));
      dying.on("pageerror", (error) => console_.push(`dying page: ${String(error)}`));
      await dying.goto(`http://127.0.0.1:${port}/crash.html?${query}&phase=die`);
      await dying
        .waitForFunction(() => (window as unknown as { paychanCrash?: { dying?: boolean; error?: string } }).paychanCrash, {
          timeout: 60_000,
        })
        .catch((error) => {
          throw new Error(`${String(error)}\n${console_.join("\n")}`);
        });
      const died = (await dying.evaluate(() => (window as unknown as { paychanCrash: { error?: string } }).paychanCrash));
      if (died.error) throw new Error(`the dying page failed before dying: ${died.error}`);
      await dying.close(); // killed: what it had not persisted never left
      const resumed = await browser.newPage();
      await resumed.goto(`http://127.0.0.1:${port}/crash.html?${query}&phase=resume`);
      await resumed.waitForFunction(() => (window as unknown as { paychanCrash?: unknown }).paychanCrash !== undefined, {
        timeout: 60_000,
      });
      const crash = (await resumed.evaluate(() => (window as unknown as { paychanCrash: unknown }).paychanCrash)) as {
        error?: string; kept: number; before: string; balanceA: string; balanceB: string; nodeSigned: boolean;
      };
      if (crash.error) throw new Error(`the resumed page failed: ${crash.error}\n${console_.join("\n")}`);
      console.log(`killed after ${crash.kept} records; resumed at ${crash.before} lamports paid, then paid 20 more`);
      assertEqual(crash.kept > 0, true, "records before the kill were kept in IndexedDB");
      assertEqual(BigInt(crash.balanceA) + BigInt(crash.balanceB), 1_000_000_000n, "nothing created or lost");
      // The round in flight at the kill may complete when the new tab reconnects (the node had
      // signed it), before or after `before` was read; the 20 new payments are final on top.
      const paidSince = BigInt(crash.balanceB) - BigInt(crash.before);
      assertEqual(paidSince >= 20n * 100_000n && paidSince % 100_000n === 0n, true, `the 20 payments after the kill (${paidSince})`);
      assertEqual(crash.nodeSigned, true, "the node signed the newest state the resumed page holds");
    } finally {
      await browser.close();
      server.close();
    }
  },
});
