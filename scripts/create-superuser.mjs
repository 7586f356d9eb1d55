// Creates the superuser from SUPERUSER_EMAIL / SUPERUSER_PASSWORD (environment, else .dev.vars) if it does not exist.
// `npm run create-superuser` (local) or `npm run create-superuser -- --remote` (the production D1; credentials from
// the environment only).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureDevVars, ensureToolchain, ROOT, run } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);
const { executeSql, readVars, superuserSql } = await import("./seed.mjs");

const remote = process.argv.includes("--remote");
const file = join(ROOT, ".dev.vars");
if (!remote) {
  // On a fresh clone this may run before `npm start`: make the local secrets and the tables first.
  ensureDevVars();
  run("wrangler", ["d1", "migrations", "apply", "DB", "--local"], { stdio: ["ignore", "ignore", "inherit"] });
}
// The deployed superuser never gets the local demo credentials: with --remote they must come from the environment.
const vars = { ...(!remote && existsSync(file) ? readVars(file) : {}), ...process.env };
if (remote && (!vars.SUPERUSER_EMAIL || !vars.SUPERUSER_PASSWORD)) {
  console.error("✗ set SUPERUSER_EMAIL and SUPERUSER_PASSWORD in the environment for --remote (see docs/deploy.md)");
  process.exit(1);
}
executeSql(await superuserSql(vars.SUPERUSER_EMAIL, vars.SUPERUSER_PASSWORD), { remote });
console.log(`superuser ${vars.SUPERUSER_EMAIL} exists ${remote ? "in the remote" : "in the local"} database`);
