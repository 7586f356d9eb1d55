// `npm run deploy:plan [-- --env NAME]`: prints the one-time commands that create what an environment of
// wrangler.toml needs on Cloudflare (D1, queues and their dead-letter queues, R2 buckets, secrets), read from the
// file itself so the list cannot fall behind it. It only prints; nothing is created. See docs/deploy.md.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "smol-toml";
import { ensureToolchain, ROOT } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

const flag = process.argv.indexOf("--env");
const name = flag >= 0 ? process.argv[flag + 1] : "production";
const config = parse(readFileSync(join(ROOT, "wrangler.toml"), "utf8"));
const section = config.env?.[name];
if (!section) {
  console.error(`✗ wrangler.toml has no [env.${name}]`);
  process.exit(1);
}
const envFlag = `--env ${name}`;

// Secrets are the keys of .dev.vars.example that are not [vars].
const secrets = readFileSync(join(ROOT, ".dev.vars.example"), "utf8")
  .split("\n")
  .map((line) => line.match(/^\s*([A-Z0-9_]+)\s*=/)?.[1])
  .filter((key) => key && !(key in (section.vars ?? {})));

const queues = new Set();
for (const p of section.queues?.producers ?? []) queues.add(p.queue);
for (const c of section.queues?.consumers ?? []) {
  queues.add(c.queue);
  if (c.dead_letter_queue) queues.add(c.dead_letter_queue);
}

let step = 0;
const heading = (text) => `# ${++step}. ${text}`;
const lines = [`# [env.${name}] of wrangler.toml: Worker "${section.name ?? `${config.name}-${name}`}"`, ""];
lines.push(heading(`D1: put each printed database_id into [[env.${name}.d1_databases]]`));
for (const db of section.d1_databases ?? []) lines.push(`npx wrangler d1 create ${db.database_name}`);
lines.push("", heading("Queues, dead-letter queues included"));
for (const queue of queues) lines.push(`npx wrangler queues create ${queue}`);
if ((section.r2_buckets ?? []).length > 0) {
  lines.push("", heading("R2 buckets"));
  for (const bucket of section.r2_buckets) lines.push(`npx wrangler r2 bucket create ${bucket.bucket_name}`);
}
lines.push(
  "",
  heading("Secrets, each asks for its value (MAILCHANNELS_API_KEY, DKIM_PRIVATE_KEY: optional, see docs/mail.md)"),
);
for (const secret of secrets) lines.push(`npx wrangler secret put ${secret} ${envFlag}`);
lines.push("", heading("Migrations and the Worker"), name === "production" ? "npm run deploy" : "see docs/deploy.md");
console.log(lines.join("\n"));
