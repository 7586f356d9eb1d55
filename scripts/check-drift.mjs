// `npm run check:drift`: fails when a generated file no longer matches what its generator makes from the sources.
//   1. src/worker-configuration.d.ts against `npm run cf-typegen` (wrangler types, pinned wrangler), byte for byte:
//      stricter than `wrangler types --check`, which compares only the hash in the header.
//   2. migrations/ against `drizzle-kit check` (snapshots consistent) and `drizzle-kit generate` on a copy: the schema
//      in src/db/schema.ts must need no new migration.
//   3. package-lock.json's root entry against package.json (dependencies and engines; `npm ci` checks the rest).
//   4. docs/roundtrips.md against the round-trip table the tests pin (`npm run docs:roundtrips`).
//   5. No import cycles among the modules in src/, type-only imports included (scripts/import-cycles.mjs).
//   6. postman/ (collection and environment) and the tables in docs/postman.md against `npm run postman`, which makes
//      them from today's OpenAPI document: a route's schema changed without regenerating fails here.
//   7. console/src/api/schema.d.ts against what openapi-typescript makes from today's OpenAPI document.
// Offline and side-effect free: the types file is restored when it differed, drizzle-kit writes into a temp copy.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { importCycles } from "./import-cycles.mjs";
import { ensureToolchain, env, ROOT } from "./lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);

const failures = [];

function exec(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: ROOT, env, encoding: "utf8" });
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

function diff(a, b) {
  return exec("git", ["diff", "--no-index", "--no-color", "--", a, b]).output;
}

// 1. Worker types.
{
  const file = join(ROOT, "src", "worker-configuration.d.ts");
  const before = readFileSync(file, "utf8");
  const { scripts } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const [cmd, ...args] = scripts["cf-typegen"].split(/\s+/);
  const generated = exec(cmd, args);
  const after = readFileSync(file, "utf8");
  if (!generated.ok) failures.push(`wrangler types failed:\n${generated.output}`);
  else if (after !== before) {
    const tmp = join(mkdtempSync(join(tmpdir(), "edge-backoffice-drift-")), "generated.d.ts");
    writeFileSync(tmp, after);
    writeFileSync(file, before);
    failures.push(
      `src/worker-configuration.d.ts is not what \`npm run cf-typegen\` generates (run it and commit the result):\n${diff(file, tmp)}`,
    );
  } else console.log("✓ src/worker-configuration.d.ts matches `npm run cf-typegen`");
}

// 2a. drizzle-kit check: the migration snapshots are consistent with each other.
{
  const checked = exec("drizzle-kit", ["check"]);
  if (!checked.ok) failures.push(`drizzle-kit check failed:\n${checked.output}`);
  else console.log("✓ drizzle-kit check");
}

// 2b. drizzle-kit generate on a copy of migrations/ must produce nothing: every schema change has its migration.
{
  const work = mkdtempSync(join(tmpdir(), "edge-backoffice-drift-"));
  const copy = join(work, "migrations");
  cpSync(join(ROOT, "migrations"), copy, { recursive: true });
  const list = (dir) => readdirSync(dir, { recursive: true }).map(String).sort();
  const before = list(copy);
  // drizzle-kit reads --out relative to the working directory.
  const generated = exec("drizzle-kit", [
    "generate",
    "--dialect",
    "sqlite",
    "--schema",
    "./src/db/schema.ts",
    "--out",
    relative(ROOT, copy),
    "--name",
    "drift_check",
  ]);
  const added = list(copy).filter((name) => !before.includes(name));
  const journalChanged =
    readFileSync(join(copy, "meta", "_journal.json"), "utf8") !==
    readFileSync(join(ROOT, "migrations", "meta", "_journal.json"), "utf8");
  if (!generated.ok) failures.push(`drizzle-kit generate failed:\n${generated.output}`);
  else if (added.length > 0 || journalChanged) {
    const sql = added.filter((name) => name.endsWith(".sql")).map((name) => readFileSync(join(copy, name), "utf8"));
    failures.push(
      `src/db/schema.ts has changes without a migration (run \`npx drizzle-kit generate --name <what>\`):\n${sql.join("\n")}`,
    );
  } else console.log("✓ drizzle-kit generate: nothing to migrate");
  rmSync(work, { recursive: true, force: true });
}

// 3. The lockfile's copy of package.json: `npm ci` refuses a lockfile missing a dependency, but not stale engines.
{
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const root = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")).packages?.[""] ?? {};
  const stale = ["dependencies", "devDependencies", "engines"].filter(
    (field) => JSON.stringify(pkg[field] ?? {}) !== JSON.stringify(root[field] ?? {}),
  );
  if (stale.length > 0) failures.push(`package-lock.json is stale in ${stale.join(", ")}: run \`npm install\``);
  else console.log("✓ package-lock.json matches package.json");
}

// 4. Generated docs: the round-trip table the test pins, as docs/roundtrips.md shows it.
{
  const check = spawnSync(process.execPath, ["bench/docs-roundtrips.mjs", "--check"], { cwd: ROOT, encoding: "utf8" });
  if (check.status !== 0)
    failures.push(check.stderr.trim() || "docs/roundtrips.md is stale: `npm run docs:roundtrips`");
  else console.log("✓ docs/roundtrips.md matches test/hardening/roundtrips.ts");
}

// 5. Import cycles in src/: move the shared types or helpers to a module both sides import.
{
  const cycles = importCycles(join(ROOT, "src"), ROOT);
  if (cycles.length > 0) {
    failures.push(
      `import cycles in src/ (move what both sides share into a module they both import):\n${cycles.map((cycle) => `  ${cycle.join(" ⇄ ")}`).join("\n")}`,
    );
  } else console.log("✓ no import cycles in src/");
}

// 6. The Postman collection and environment, and the tables in docs/postman.md, made from today's OpenAPI document.
{
  const { generatedFiles } = await import("./postman.mjs");
  const { openapiDocument } = await import("./openapi.mjs");
  try {
    const { files, warnings } = await generatedFiles(await openapiDocument());
    for (const warning of warnings) console.warn(`! ${warning}`);
    const work = mkdtempSync(join(tmpdir(), "edge-backoffice-drift-"));
    const stale = Object.entries(files).flatMap(([path, text]) => {
      const file = join(ROOT, path);
      if (existsSync(file) && readFileSync(file, "utf8") === text) return [];
      const fresh = join(work, path.replaceAll("/", "_"));
      writeFileSync(fresh, text);
      return [
        `${path} is not what \`npm run postman\` makes from today's document:\n${diff(file, fresh).slice(0, 4000)}`,
      ];
    });
    rmSync(work, { recursive: true, force: true });
    if (stale.length > 0)
      failures.push(`${stale.join("\n")}\n(run \`npm run postman\` and commit postman/ and docs/postman.md)`);
    else console.log("✓ postman/ and docs/postman.md match `npm run postman`");
  } catch (error) {
    failures.push(`npm run postman fails: ${error instanceof Error ? error.message : error}`);
  }
}

// 7. The console's API types: regenerated from the app's document (offline) and compared with the committed file.
{
  const { generatedSchema, SCHEMA_FILE } = await import("./console.mjs");
  const committed = readFileSync(SCHEMA_FILE, "utf8");
  const generated = await generatedSchema();
  if (committed !== generated) {
    const tmp = join(mkdtempSync(join(tmpdir(), "edge-backoffice-drift-")), "schema.d.ts");
    writeFileSync(tmp, generated);
    failures.push(
      `console/src/api/schema.d.ts is stale against the OpenAPI document (run \`npm run console:types\` and commit the result):\n${diff(SCHEMA_FILE, tmp).slice(0, 4000)}`,
    );
  } else console.log("✓ console/src/api/schema.d.ts matches the OpenAPI document");
}

if (failures.length > 0) {
  for (const failure of failures) console.error(`\n✗ ${failure}`);
  process.exit(1);
}
