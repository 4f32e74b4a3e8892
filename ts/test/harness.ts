// What every npm test shares: a bound on every wait, checks, and a runner that prints one line
// per test and a cargo-style summary (scripts/test.sh counts it).
export const DEADLINE_MS = 30_000;

export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function assertEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${String(expected)}, got ${String(actual)}`);
  }
}

/// The ledger's URL from the command line.
export function ledgerUrl(script: string): string {
  const url = process.argv[2];
  if (!url) {
    console.error(`usage: node ${script} <ledger url>`);
    process.exit(2);
  }
  return url;
}

/// Runs every test in order; exits non-zero if any failed.
export async function run(tests: Record<string, () => Promise<void>>): Promise<never> {
  let passed = 0;
  let failed = 0;
  for (const [name, test] of Object.entries(tests)) {
    try {
      await test();
      passed += 1;
      console.log(`test ${name} ... ok`);
    } catch (error) {
      failed += 1;
      console.log(`test ${name} ... FAILED\n${(error as Error).stack ?? String(error)}`);
    }
  }
  console.log(`test result: ${failed === 0 ? "ok" : "FAILED"}. ${passed} passed; ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}
