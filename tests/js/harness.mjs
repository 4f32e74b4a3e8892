// What both npm-client tests share: a bound on every wait, an equality check, and a runner
// that prints one line per test and a cargo-style summary (scripts/test.sh counts it).
export const DEADLINE_MS = 30_000;

export function within(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${expected}, got ${actual}`);
  }
}

/// The ledger's URL from the command line.
export function ledgerUrl(script) {
  const url = process.argv[2];
  if (!url) {
    console.error(`usage: node ${script} <ledger url>`);
    process.exit(2);
  }
  return url;
}

/// Runs every test in order; exits non-zero if any failed.
export async function run(tests) {
  let passed = 0;
  let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    try {
      await test();
      passed += 1;
      console.log(`test ${name} ... ok`);
    } catch (error) {
      failed += 1;
      console.log(`test ${name} ... FAILED\n${error.stack ?? error}`);
    }
  }
  console.log(`test result: ${failed === 0 ? "ok" : "FAILED"}. ${passed} passed; ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
