// Shared by the npm scripts: make a fresh clone runnable with only Node and npm.
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
export const BIN = join(ROOT, "node_modules", ".bin");
export const env = {
  ...process.env,
  PATH: `${BIN}:${process.env.PATH}`,
  WRANGLER_SEND_METRICS: "false",
  // Local runs need no real `request.cf` (it would be fetched from Cloudflare at every start); use the placeholder.
  CLOUDFLARE_CF_FETCH_ENABLED: process.env.CLOUDFLARE_CF_FETCH_ENABLED ?? "false",
  NO_UPDATE_NOTIFIER: "1",
};

export function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit", env, ...options });
  if (result.status !== 0 && !options.allowFailure) {
    console.error(`\n✗ ${cmd} ${args.join(" ")} exited with ${result.status ?? result.signal}`);
    process.exit(result.status ?? 1);
  }
  return result;
}

/**
 * Installs npm dependencies when they are missing or older than the lockfile, then re-runs the calling script on
 * the Node 22 that the `node` devDependency ships (wrangler needs Node >= 22.12; the machine may have Node 20).
 */
export function ensureToolchain(script) {
  const marker = join(ROOT, "node_modules", ".package-lock.json");
  const lock = join(ROOT, "package-lock.json");
  const stale =
    !existsSync(marker) || !existsSync(join(BIN, "wrangler")) || statSync(lock).mtimeMs > statSync(marker).mtimeMs;
  if (stale) {
    console.log("• installing npm dependencies…");
    // `npm install` rather than `npm ci`: it keeps what is already installed. The lockfile lists every platform's
    // optional packages, so this leaves it unchanged (CI uses `npm ci`).
    run("npm", ["install", "--no-audit", "--no-fund"]);
  }
  const major = Number(process.versions.node.split(".")[0]);
  const localNode = join(BIN, "node");
  if (major < 22 && existsSync(localNode)) {
    const result = spawnSync(localNode, [script, ...process.argv.slice(2)], { cwd: ROOT, stdio: "inherit", env });
    process.exit(result.status ?? 1);
  }
}

export function spawnLong(cmd, args, options = {}) {
  return spawn(cmd, args, { cwd: ROOT, stdio: "inherit", env, ...options });
}

/**
 * Local secrets for wrangler dev, the seed and the benchmarks: .dev.vars is made once from .dev.vars.example and
 * never overwritten (it is yours to edit; git ignores it). Returns its path.
 */
export function ensureDevVars() {
  const devVars = join(ROOT, ".dev.vars");
  if (!existsSync(devVars)) {
    copyFileSync(join(ROOT, ".dev.vars.example"), devVars);
    console.log("• created .dev.vars from .dev.vars.example (edit it to change local secrets)");
  }
  return devVars;
}
