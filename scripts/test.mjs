// `npm test`: install what is missing, make sure a Chromium exists, then run every suite: the workerd suite
// (D1, Durable Objects, queues, crons under vitest) and the end-to-end suite (the app started with `npm start`,
// driven by Chromium through playwright-core). Ends with one summary line: "tests: N passed, N failed".
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureToolchain, run } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function ensureChromium() {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() === 0 && existsSync("/usr/bin/apt-get")) {
    console.log("• installing Debian's chromium for the browser tests…");
    run("apt-get", ["update", "-qq"]);
    run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "chromium"], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (existsSync(CHROMIUM)) return;
  }
  console.error(
    `✗ The browser tests need Chromium at ${CHROMIUM}. Install it (Debian/Ubuntu: sudo apt-get install chromium) ` +
      "or set CHROMIUM_PATH to a Chromium or Chrome binary, then run npm test again.",
  );
  process.exit(1);
}

ensureChromium();
run("node", ["scripts/vendor.mjs"]);
run("node", ["scripts/console.mjs"]);

const out = mkdtempSync(join(tmpdir(), "edge-backoffice-test-"));
const suites = [
  { name: "workerd", args: ["vitest", "run"] },
  { name: "e2e", args: ["vitest", "run", "--config", "vitest.e2e.config.ts"] },
];
const extra = process.argv.slice(2);
let passed = 0;
let failed = 0;
let skipped = 0;
let exitCode = 0;
for (const suite of suites) {
  const report = join(out, `${suite.name}.json`);
  const result = run(
    "npx",
    [...suite.args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...extra],
    {
      allowFailure: true,
    },
  );
  if (result.status !== 0) exitCode = result.status ?? 1;
  if (!existsSync(report)) {
    console.error(`✗ the ${suite.name} suite wrote no report`);
    exitCode ||= 1;
    continue;
  }
  const json = JSON.parse(readFileSync(report, "utf8"));
  passed += json.numPassedTests;
  failed += json.numFailedTests + (json.numTotalTestSuites > 0 && !json.success && json.numFailedTests === 0 ? 1 : 0);
  skipped += json.numPendingTests + json.numTodoTests;
}
if (passed === 0) exitCode ||= 1;
console.log(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(exitCode);
