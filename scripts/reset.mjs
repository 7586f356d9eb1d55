// `npm run reset`: forget all local state (D1, Durable Objects, queues, caches) so the next `npm start` migrates and
// seeds a fresh database. Removes .wrangler/state/v3 (or PERSIST_TO/v3); keeps .dev.vars (your secrets).
// `npm run reset -- --login-limits` instead clears only the sign-in rate limits (rate_limits table), e.g. after the
// rate-limit demo locked the demo member out. Stop `npm start` first: wrangler dev holds the state open.
import { existsSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureToolchain, ROOT, run } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

const persistTo = process.env.PERSIST_TO;
if (process.argv.includes("--login-limits")) {
  const persistArgs = persistTo ? ["--persist-to", persistTo] : [];
  const sql = "DELETE FROM rate_limits";
  run("wrangler", ["d1", "execute", "DB", "--local", ...persistArgs, "--command", sql], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  console.log("• cleared the local sign-in rate limits (every lockout ends now)");
} else {
  // Wrangler keeps everything under <state>/v3; only that is removed, so a PERSIST_TO pointing somewhere odd is safe.
  const state = join(persistTo ? resolve(ROOT, persistTo) : join(ROOT, ".wrangler", "state"), "v3");
  if (existsSync(state)) {
    rmSync(state, { recursive: true, force: true });
    console.log(`• removed ${state}; the next \`npm start\` migrates and seeds a fresh local database`);
  } else console.log(`• nothing to remove: ${state} does not exist`);
}
