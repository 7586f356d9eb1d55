// Demo data and the superuser, as idempotent SQL applied with `wrangler d1 execute` (local or --remote).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hashPassword } from "../src/auth/passwords.ts";
import { ROOT, run } from "./lib.mjs";

export const DEMO_USERS = [
  {
    id: "00000000-0000-4000-8000-00000000a001",
    email: "admin@example.com",
    username: "ada",
    password: "admin-demo-password",
    role: "admin",
  },
  {
    id: "00000000-0000-4000-8000-00000000a002",
    email: "member@example.com",
    username: "max",
    password: "member-demo-password",
    role: "member",
  },
];

const quote = (value) =>
  value === null || value === undefined
    ? "NULL"
    : typeof value === "number"
      ? String(value)
      : `'${String(value).replaceAll("'", "''")}'`;

/** Reads KEY=value lines (.dev.vars format). */
export function readVars(file) {
  const vars = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = line.match(/^\s*([A-Z0-9_]+)\s*=\s*(.*)\s*$/);
    if (match) vars[match[1]] = match[2].replace(/^"(.*)"$/, "$1");
  }
  return vars;
}

/** The superuser: created when absent, never changed when present (the API cannot change it either). */
export async function superuserSql(email, password, now = Date.now()) {
  if (!email || !password)
    throw new Error("SUPERUSER_EMAIL and SUPERUSER_PASSWORD must be set (.dev.vars or the environment)");
  const base =
    email
      .split("@")[0]
      .toLowerCase()
      .replace(/[^a-z0-9_.-]/g, "")
      .slice(0, 23) || "superuser";
  const id = crypto.randomUUID();
  // Created only when no account has that email; the username gets a suffix when another user already has it.
  return `INSERT INTO users (id, email, username, password_hash, role, email_verified_at, created_at, updated_at)
SELECT ${quote(id)}, ${quote(email.toLowerCase())},
  CASE WHEN EXISTS (SELECT 1 FROM users WHERE username = ${quote(base)}) THEN ${quote(`${base}-${id.slice(0, 6)}`)} ELSE ${quote(base)} END,
  ${quote(await hashPassword(password))}, 'superuser', ${now}, ${now}, ${now}
WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ${quote(email.toLowerCase())});`;
}

async function demoSql(now = Date.now()) {
  const statements = [];
  for (const user of DEMO_USERS) {
    // Demo accounts stand for ones an admin made: their (example.com) addresses count as verified.
    statements.push(`INSERT INTO users (id, email, username, password_hash, role, email_verified_at, created_at, updated_at)
VALUES (${quote(user.id)}, ${quote(user.email)}, ${quote(user.username)}, ${quote(await hashPassword(user.password))}, ${quote(user.role)}, ${now}, ${now}, ${now})
ON CONFLICT DO NOTHING;`);
  }
  const [admin, member] = DEMO_USERS;
  const minute = 60_000;
  const tasks = [
    ["Welcome to the task board", "Everyone signed in sees every task.", "todo", null, member.id],
    ["Prepare the quarterly report", "Numbers from the catalog reports.", "in_progress", now + 10 * minute, admin.id],
    ["Renew the TLS certificate", "Expires soon: watch for the notice.", "todo", now + 2 * 60 * minute, admin.id],
    ["Order office supplies", "", "done", null, member.id],
  ];
  tasks.forEach(([title, description, status, expiresAt, createdBy], i) => {
    const id = `00000000-0000-4000-8000-0000000b000${i + 1}`;
    statements.push(`INSERT OR IGNORE INTO tasks (id, title, description, status, expires_at, created_by, created_at, updated_at)
VALUES (${quote(id)}, ${quote(title)}, ${quote(description)}, ${quote(status)}, ${quote(expiresAt)}, ${quote(createdBy)}, ${now - (4 - i) * minute}, ${now - (4 - i) * minute});`);
  });
  const products = [
    ["Trail Runner 2", "Northpeak", 12900],
    ["Espresso Grinder", "Brewline", 24950],
    ["Desk Lamp", "Lumo", 3999],
    ["Noise-Cancelling Headphones", "Quietude", 19900],
    ["Mechanical Keyboard", "Clackworks", 8900],
  ];
  products.forEach(([name, brand, cents], i) => {
    const sku = `00000000-0000-4000-8000-0000000c000${i + 1}`;
    statements.push(`INSERT OR IGNORE INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
VALUES (${quote(sku)}, ${quote(name)}, ${quote(brand)}, ${cents}, 0, ${now - i * minute}, ${now - i * minute});`);
  });
  return statements.join("\n");
}

/**
 * Applies SQL to the DB binding, locally (optionally into a persist dir) or with remote=true to the deployed one:
 * the production environment's D1 (the top level of wrangler.toml is local-only).
 */
export function executeSql(sql, { remote = false, persistTo } = {}) {
  const file = join(mkdtempSync(join(tmpdir(), "edge-backoffice-")), "seed.sql");
  writeFileSync(file, sql);
  const where = remote ? ["--remote", "--env", "production"] : ["--local"];
  const args = ["d1", "execute", "DB", ...where, "--file", file, "--yes"];
  if (persistTo) args.push("--persist-to", persistTo);
  run("wrangler", args, { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
}

export async function seed({ vars, persistTo }) {
  executeSql(`${await superuserSql(vars.SUPERUSER_EMAIL, vars.SUPERUSER_PASSWORD)}\n${await demoSql()}`, { persistTo });
}
