// The two ways the app runs here: `npm start` (wrangler dev, as a user starts it) and the built Worker straight in
// the runtime (Miniflare's API from the miniflare that wrangler itself depends on: workerd, no dev-server proxy).
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "../../scripts/lib.mjs";
import { onCleanup, pollUntil, runQuiet, startGroup, stopGroup } from "./proc.mjs";

const require = createRequire(import.meta.url);
const wranglerPkg = require.resolve("wrangler/package.json");
const miniflareEntry = createRequire(wranglerPkg).resolve("miniflare");

/** `wrangler deploy --dry-run --outdir`: the deployable bundle (optionally of another entry point). */
export function buildWorker(outdir, entry) {
  mkdirSync(outdir, { recursive: true });
  runQuiet("wrangler", ["deploy", "--dry-run", "--outdir", outdir, ...(entry ? [entry] : [])], { timeoutMs: 180_000 });
  // The bundle is named after the entry point: index.js for src/index.ts.
  const script = readdirSync(outdir).find((file) => file.endsWith(".js"));
  if (!script) throw new Error(`wrangler deploy --dry-run wrote no .js file to ${outdir}`);
  return join(outdir, script);
}

/** Migrations, the superuser and demo data (scripts/seed.mjs, as npm start does), then optional extra SQL. */
export async function prepareState(stateDir, extraSql) {
  runQuiet("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", stateDir]);
  const { readVars, seed } = await import("../../scripts/seed.mjs");
  await seed({ vars: readVars(join(ROOT, ".dev.vars")), persistTo: stateDir });
  if (extraSql) executeSql(stateDir, extraSql);
}

/** `wrangler d1 execute --local --file` into a state directory (bulk seeding). */
export function executeSql(stateDir, sql) {
  const file = join(stateDir, `bench-${Date.now()}.sql`);
  writeFileSync(file, sql);
  runQuiet("wrangler", ["d1", "execute", "DB", "--local", "--persist-to", stateDir, "--file", file, "--yes"], {
    timeoutMs: 300_000,
  });
}

/** `wrangler d1 execute --local --command --json`: the first row of a read query. */
export function queryOne(stateDir, sql) {
  const out = runQuiet("wrangler", [
    "d1",
    "execute",
    "DB",
    "--local",
    "--persist-to",
    stateDir,
    "--command",
    sql,
    "--json",
  ]);
  const parsed = JSON.parse(out.slice(out.indexOf("[")));
  return parsed[0]?.results?.[0] ?? null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

const QUEUE_LINE = /QUEUE\W+(\S+)\W+(\d+)\/(\d+)/;

/** Shared by both runtimes: queue batch lines ("QUEUE views 100/100") and the bench.d1 lines, parsed. */
function logSink() {
  const sink = { queueBatches: [], d1: [], telemetry: [], errors: [], lines: 0 };
  sink.line = (text) => {
    sink.lines += 1;
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strip ANSI colours from wrangler's output
    const plain = text.replace(/\u001b\[[0-9;]*m/g, "");
    const queue = plain.match(QUEUE_LINE);
    if (queue) sink.queueBatches.push({ queue: queue[1], acked: Number(queue[2]), total: Number(queue[3]) });
    if (plain.includes('"bench.d1"')) {
      try {
        sink.d1.push(JSON.parse(plain.slice(plain.indexOf("{"))));
      } catch {
        // a partial line
      }
    }
    if (plain.includes('"telemetry batch applied"')) {
      try {
        sink.telemetry.push(JSON.parse(plain.slice(plain.indexOf("{"))));
      } catch {
        // a partial line
      }
    }
    if (/"level":"error"|✘ \[ERROR\]/.test(plain) && sink.errors.length < 20) sink.errors.push(plain.slice(0, 500));
  };
  sink.reset = () => {
    sink.queueBatches.length = 0;
    sink.d1.length = 0;
    sink.telemetry.length = 0;
  };
  return sink;
}

/**
 * The built Worker in workerd through Miniflare, with the bindings wrangler derives from wrangler.toml and .dev.vars
 * (unstable_getMiniflareWorkerOptions) and the same state layout as `--persist-to`. With `assets: false` the
 * asset router is left out: every benchmarked path is in run_worker_first, so on Cloudflare it never reaches the
 * asset worker, while locally the router worker sits in front of every request (see the README notes).
 */
export async function startMiniflare({ scriptPath, stateDir, assets = false, name = "workerd" }) {
  const { Miniflare, Log, LogLevel, convertV4MiniflareOptions } = await import(pathToFileURL(miniflareEntry).href);
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const { workerOptions } = unstable_getMiniflareWorkerOptions(join(ROOT, "wrangler.toml"));
  const { modulesRules: _rules, rootPath: _root, assets: assetOptions, ...bindings } = workerOptions;
  const sink = logSink();
  class CapturingLog extends Log {
    logWithLevel(level, message) {
      sink.line(String(message));
      if (level <= LogLevel.ERROR) sink.errors.push(String(message).slice(0, 500));
    }
  }
  const port = await freePort();
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port,
      cf: false,
      log: new CapturingLog(LogLevel.INFO),
      logRequests: false,
      handleStructuredLogs: (entry) => sink.line(entry.message),
      resourcePersistencePath: join(stateDir, "v3"),
      workers: [
        {
          ...bindings,
          ...(assets ? { assets: assetOptions } : {}),
          name: "edge-backoffice",
          modules: true,
          scriptPath,
          modulesRoot: dirname(scriptPath),
        },
      ],
    }),
  );
  const dispose = onCleanup(() => mf.dispose());
  await Promise.race([
    mf.ready,
    new Promise((_, reject) => setTimeout(() => reject(new Error("Miniflare did not start in 60 s")), 60_000)),
  ]);
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitHealthy(baseUrl, 60_000);
  const db = await mf.getD1Database("DB");
  return {
    name,
    baseUrl,
    sink,
    stateDir,
    countRows: async (sql) => Object.values((await db.prepare(sql).first()) ?? {})[0] ?? null,
    execute: (sql) => db.prepare(sql).run(),
    stop: dispose,
  };
}

/** `npm start` with PORT, HOST and PERSIST_TO, exactly as the README tells a user (wrangler dev behind it). */
export async function startNpm({ stateDir, name = "wrangler dev" }) {
  const port = await freePort();
  const sink = logSink();
  const child = startGroup("npm", ["start"], {
    extraEnv: { PORT: String(port), HOST: "127.0.0.1", PERSIST_TO: stateDir },
    onLine: sink.line,
  });
  const stop = onCleanup(() => stopGroup(child));
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitHealthy(baseUrl, 180_000, () => child.exitCode === null);
  } catch (error) {
    await stop();
    throw new Error(`${error.message}\n${sink.errors.join("\n")}`);
  }
  return {
    name,
    baseUrl,
    sink,
    stateDir,
    // A second local reader of the same SQLite file; fine for reads while wrangler dev runs.
    countRows: async (sql) => Object.values(queryOne(stateDir, sql) ?? {})[0] ?? null,
    execute: async (sql) => executeSql(stateDir, sql),
    stop,
  };
}

async function waitHealthy(baseUrl, timeoutMs, alive = () => true) {
  const ok = await pollUntil(
    async () => {
      if (!alive()) return "exited";
      const res = await fetch(`${baseUrl}/health/live`, { signal: AbortSignal.timeout(5000) });
      return res.ok;
    },
    { timeoutMs, intervalMs: 300 },
  );
  if (ok === "exited") throw new Error(`the server behind ${baseUrl} exited before it answered`);
  if (!ok) throw new Error(`${baseUrl} did not answer /health/live within ${timeoutMs / 1000} s`);
}
