// `npm run bench`: every figure of the benchmarks issue in one run, on 127.0.0.1 only, written to
// bench/results.json and printed as a table. See docs/benchmarks.md for what each figure means.
//
//   BENCH_DURATION=8     seconds per measured route (after a 1 s warm-up)
//   BENCH_CONNECTIONS=32 concurrent connections for throughput runs
//   BENCH_ONLY=workerd,wrangler,bundle,console,login,rest,edge,cursor,views,growth   a subset: its figures replace the same
//                figures in bench/results.json and docs/benchmarks.md, marked with their run (see mergeSubset)
//   BENCH_CHAIN_ROUNDS=7 BENCH_CHAIN_SECONDS=3   interleaved rounds of the edge figure's middleware chain
import { execSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, freemem, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { ensureDevVars, ensureToolchain, ROOT } from "../scripts/lib.mjs";

ensureToolchain(new URL(import.meta.url).pathname);
ensureDevVars(); // the harnesses read the local secrets from it, as `npm start` does

const { cleanupAll, killAllSync } = await import("./lib/proc.mjs");
const { SETTINGS } = await import("./lib/load.mjs");
const { buildWorker, prepareState, startMiniflare, startNpm } = await import("./lib/runtimes.mjs");
const { bundleFigure, consoleFigure } = await import("./figures/bundle.mjs");
const { ensureConsole, OUT_DIR: CONSOLE_OUT } = await import("../scripts/console.mjs");
const { hashFigures, loginRoute } = await import("./figures/login.mjs");
const { restFigures } = await import("./figures/rest.mjs");
const { cursorFigures } = await import("./figures/cursor.mjs");
const { viewFigures, viewProductsSql } = await import("./figures/views.mjs");
const { growthFigures } = await import("./figures/growth.mjs");
const { edgeFigures } = await import("./figures/edge.mjs");
const { formatReport, writeBenchmarksDoc } = await import("./lib/report.mjs");
const { measure } = await import("./lib/load.mjs");
const { DEMO_USERS } = await import("../scripts/seed.mjs");

const only = (process.env.BENCH_ONLY ?? "").split(",").filter(Boolean);
const want = (part) => only.length === 0 || only.includes(part);
/** Figures that only one harness carries: asking for the figure starts that harness. */
const ONLY_IN = { edge: "workerd", growth: "workerd" };
const wantHarness = (kind) => want(kind) || only.some((part) => ONLY_IN[part] === kind);
const member = DEMO_USERS.find((u) => u.role === "member");
const admin = DEMO_USERS.find((u) => u.role === "admin");

function sh(command) {
  try {
    return execSync(command, { encoding: "utf8", timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

function machine() {
  const free = sh("free -h");
  return {
    cpu: cpus()[0]?.model?.trim() ?? "unknown",
    nproc: Number(sh("nproc") ?? cpus().length),
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB total, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`,
    free_h: free,
    node: process.version,
    loadavg_start: loadavg().map((n) => n.toFixed(2)),
  };
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, async () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`\n${signal}: stopping everything the benchmark started…`);
    await cleanupAll();
    process.exit(130);
  });
}
process.on("exit", killAllSync);

const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const results = {
  date: new Date().toISOString(),
  machine: machine(),
  settings: {
    connections: SETTINGS.connections,
    duration_s: SETTINGS.durationSeconds,
    warmup_s: SETTINGS.warmupSeconds,
  },
  harnesses: {},
};
const work = mkdtempSync(join(tmpdir(), "edge-backoffice-bench-"));
let failed = false;

/** One harness: start the runtime, run the figures it carries, always stop it. */
async function harness(name, description, start, figures) {
  const entry = { description };
  results.harnesses[name] = entry;
  let rt;
  try {
    log(`${name}: starting`);
    rt = await start();
    log(`${name}: up at ${rt.baseUrl}`);
    const { token, figure } = await loginRoute(rt, member);
    entry.login = figure;
    for (const [key, run] of figures) {
      log(`${name}: ${key}`);
      entry[key] = await run(rt, token);
    }
    if (rt.sink.errors.length > 0) entry.runtime_errors = rt.sink.errors.slice(0, 10);
  } catch (error) {
    failed = true;
    entry.error = error instanceof Error ? error.message : String(error);
    log(`${name}: FAILED: ${entry.error}`);
  } finally {
    await rt?.stop();
  }
}

try {
  // The console first: the Worker's build serves it, and its figure needs no runtime.
  ensureConsole({ quiet: true });
  if (want("console")) {
    results.console = { ...consoleFigure(CONSOLE_OUT), measured_at: new Date().toISOString() };
    log(`console: sign-in first load ${results.console.gzip_kb} KB gzipped JS`);
  }
  if (want("bundle")) {
    log("building the Worker (wrangler deploy --dry-run --outdir)");
    results.bundle = bundleFigure(buildWorker(join(work, "build")));
  }
  if (want("login")) {
    log("login: scrypt in Node");
    results.login = { hash: await hashFigures() };
  }

  const figuresFor = (kind) =>
    [
      want("rest") && ["rest", (rt, token) => restFigures(rt, { memberToken: token })],
      want("cursor") && ["cursor", (rt) => cursorFigures(rt, { durationSeconds: SETTINGS.durationSeconds })],
      want("views") && ["views", (rt) => viewFigures(rt)],
      kind === "workerd" &&
        want("growth") && [
          "growth",
          (rt, token) =>
            growthFigures(rt, { memberToken: token, durationSeconds: Math.min(SETTINGS.durationSeconds, 4) }),
        ],
      // Last: it grows the tables to 100,000 rows.
      kind === "workerd" && want("edge") && ["edge", (rt, token) => edgeFigures(rt, { memberToken: token, admin })],
    ].filter(Boolean);

  // Migrations, demo data and the ten view-counting products, prepared once and copied for each harness.
  const template = join(work, "state-template");
  if (wantHarness("workerd") || wantHarness("wrangler")) {
    log("state: migrations, demo data, benchmark products");
    await prepareState(template, viewProductsSql());
  }

  if (wantHarness("workerd")) {
    // The same bundle with the queue consumer's D1 binding wrapped to count statements (fetch is untouched).
    const instrumented = buildWorker(join(work, "build-instrumented"), "bench/instrumented.ts");
    const stateDir = join(work, "state-workerd");
    cpSync(template, stateDir, { recursive: true });
    await harness(
      "workerd",
      "the built Worker straight in workerd (Miniflare API, no dev-server proxy, no asset router)",
      () => startMiniflare({ scriptPath: instrumented, stateDir }),
      figuresFor("workerd"),
    );
    if (want("rest")) {
      // What the local asset router costs: the same bare route with Miniflare's assets layer in front.
      let rt;
      try {
        log("workerd: bare route behind the local asset router");
        rt = await startMiniflare({ scriptPath: instrumented, stateDir, assets: true });
        results.harnesses.workerd.bare_with_asset_router = await measure(`${rt.baseUrl}/health/live`);
      } catch (error) {
        results.harnesses.workerd.bare_with_asset_router = { error: String(error) };
      } finally {
        await rt?.stop();
      }
    }
  }

  if (wantHarness("wrangler")) {
    const stateDir = join(work, "state-wrangler");
    cpSync(template, stateDir, { recursive: true });
    await harness(
      "wrangler dev",
      "`npm start` (PORT, HOST=127.0.0.1, PERSIST_TO): wrangler dev as a user runs it",
      () => startNpm({ stateDir }),
      figuresFor("wrangler"),
    );
  }
} catch (error) {
  failed = true;
  results.error = error instanceof Error ? error.message : String(error);
  log(`FAILED: ${results.error}`);
} finally {
  await cleanupAll();
  rmSync(work, { recursive: true, force: true });
}

results.machine.loadavg_end = loadavg().map((n) => n.toFixed(2));
results.total_s = Math.round((Date.now() - started) / 1000);
/**
 * A subset run's figures replace the same figures of bench/results.json (the last full run), each listed in
 * `subset_runs` with its date and BENCH_ONLY, so the committed file and the docs hold the newest measurement of every
 * figure and say which came from which run. A failed subset run replaces nothing.
 */
function mergeSubset(full, subset) {
  const merged = structuredClone(full);
  const figures = [];
  for (const key of ["bundle", "console", "login"]) {
    if (subset[key]) {
      merged[key] = subset[key];
      figures.push(key);
    }
  }
  for (const [name, harness] of Object.entries(subset.harnesses)) {
    merged.harnesses[name] ??= { description: harness.description };
    for (const [key, value] of Object.entries(harness)) {
      if (key === "description" || key === "runtime_errors") continue;
      merged.harnesses[name][key] = value;
      figures.push(`${name}.${key}`);
    }
  }
  const earlier = (full.subset_runs ?? []).map((run) => ({
    ...run,
    figures: run.figures.filter((figure) => !figures.includes(figure)),
  }));
  merged.subset_runs = [
    ...earlier.filter((run) => run.figures.length > 0),
    { date: subset.date, only, machine: subset.machine, settings: subset.settings, figures },
  ];
  return merged;
}

const resultsFile = join(ROOT, "bench", "results.json");
const merge = only.length > 0 && !failed && existsSync(resultsFile);
const written = merge ? mergeSubset(JSON.parse(readFileSync(resultsFile, "utf8")), results) : results;
const file = only.length === 0 || merge ? resultsFile : join(ROOT, "bench", "results.json.tmp");
writeFileSync(file, `${JSON.stringify(written, null, 2)}\n`);
const doc = only.length === 0 || merge ? writeBenchmarksDoc(written) : null;
console.log(`\n${formatReport(results)}\n\nwritten to ${file}${doc ? ` and ${doc}` : ""}`);
process.exit(failed ? 1 : 0);
