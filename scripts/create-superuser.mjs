// Creates the superuser from SUPERUSER_EMAIL / SUPERUSER_PASSWORD (environment, else .dev.vars) if it does not exist.
// `npm run create-superuser` (local) or `npm run create-superuser -- --remote` (the deployed D1).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureToolchain, ROOT } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);
const { executeSql, readVars, superuserSql } = await import("./seed.mjs");

const file = join(ROOT, ".dev.vars");
const vars = { ...(existsSync(file) ? readVars(file) : {}), ...process.env };
const remote = process.argv.includes("--remote");
executeSql(await superuserSql(vars.SUPERUSER_EMAIL, vars.SUPERUSER_PASSWORD), { remote });
console.log(`superuser ${vars.SUPERUSER_EMAIL} exists ${remote ? "in the remote" : "in the local"} database`);
