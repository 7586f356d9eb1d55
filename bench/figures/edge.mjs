// REST at the edge: floors, the middleware chain piece by piece, D1 cost per route from Server-Timing, Worker CPU
// per request, the catalog cache cold and warm, and list reads at 1,000 and 100,000 rows. One workerd process.
import { readdirSync, readFileSync } from "node:fs";
import { fixedAmount, measure, median, request, round } from "../lib/load.mjs";

export const EDGE_TARGETS = {
  /** the app's constant route against a bare Hono route */
  chain: 0.8,
  /** a warm anonymous product read against the app's constant route */
  warm_read: 0.8,
};

/** workerd processes started by this benchmark (children of this Node process, or their children). */
function workerdPids() {
  const parentOf = new Map();
  const names = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      names.set(Number(entry), stat.slice(stat.indexOf("(") + 1, close));
      parentOf.set(Number(entry), Number(stat.slice(close + 2).split(" ")[1]));
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid) => {
    for (let p = parentOf.get(pid), hops = 0; p && hops < 4; p = parentOf.get(p), hops += 1) {
      if (p === process.pid) return true;
    }
    return false;
  };
  return [...names].filter(([pid, name]) => name.startsWith("workerd") && mine(pid)).map(([pid]) => pid);
}

/** CPU seconds (user + system) the given processes have used so far. */
function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // gone
    }
  }
  return ticks / 100; // USER_HZ: 100 on Linux
}

/** `d1;desc="rt=1 read=21 written=0";dur=…` → { rt, read, written } (null when the header is missing). */
export function parseServerTiming(value) {
  const match = /d1;desc="rt=(\d+) read=(\d+) written=(\d+)"/.exec(value ?? "");
  return match ? { rt: Number(match[1]), read: Number(match[2]), written: Number(match[3]) } : null;
}

async function d1Of(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  await res.arrayBuffer();
  return {
    status: res.status,
    cache: res.headers.get("x-cache"),
    ...parseServerTiming(res.headers.get("server-timing")),
  };
}

/** A measured run with the Worker CPU it cost: workerd's CPU time over the measured requests (warm-up excluded). */
async function measured(pids, url, options = {}) {
  let before = cpuSeconds(pids);
  const result = await measure(url, {
    ...options,
    beforeRun: () => {
      before = cpuSeconds(pids);
    },
  });
  const cpu = cpuSeconds(pids) - before;
  return { ...result, cpu_ms_per_request: result.requests ? round((cpu * 1000) / result.requests, 3) : null };
}

/**
 * The constant route behind one more piece of the app per step, each step a path of its own in the same workerd
 * (bench/instrumented.ts); `app` is the app itself. Each step's cost is what it adds to the step before.
 */
const CHAIN = [
  { key: "trivial", path: "/__bench/trivial", label: "trivial fetch handler (constant JSON)" },
  { key: "hono", path: "/__bench/hono", label: "bare Hono route (constant JSON)" },
  { key: "log", path: "/__bench/chain/log", label: "+ the per-request log line", piece: "the per-request log line" },
  {
    key: "edge",
    path: "/__bench/chain/edge",
    label: "+ edge (request id, security headers, Server-Timing)",
    piece: "edge's request id, security headers and Server-Timing",
  },
  {
    key: "context",
    path: "/__bench/chain/context",
    label: "+ requestContext (settings guard, bookmark, c.var.d1 and c.var.db)",
    piece: "requestContext (settings guard, bookmark check, c.var.d1 and c.var.db)",
  },
  {
    key: "app",
    path: "/health/live",
    label: "= app GET /health/live (+ methodNotAllowed, the app's router)",
    piece: "methodNotAllowed and the app's router of every route",
  },
];

/**
 * Floors and chain in interleaved rounds: every round measures every step (in an order rotated by one each round, so
 * drift and warm-up fall on each step alike), and each step's ratio to bare Hono is taken within its round. The
 * medians over the rounds are what is reported; the spread says how far a single round can stray.
 */
async function chainRounds(rt, pids, { rounds, seconds }) {
  const samples = Object.fromEntries(CHAIN.map((step) => [step.key, []]));
  for (let r = 0; r < rounds; r += 1) {
    for (let i = 0; i < CHAIN.length; i += 1) {
      const step = CHAIN[(i + r) % CHAIN.length];
      const result = await measured(pids, `${rt.baseUrl}${step.path}`, { duration: seconds, warmup: 0.5 });
      if (result.non2xx + result.errors > 0) throw new Error(`${step.path}: ${result.non2xx + result.errors} failures`);
      samples[step.key].push(result);
    }
  }
  const hono = samples.hono;
  const steps = CHAIN.map((step, index) => {
    const runs = samples[step.key];
    const previous = index > 1 ? samples[CHAIN[index - 1].key] : null;
    const rpsRatios = runs.map((run, r) => run.rps / hono[r].rps);
    const cpuRatios = runs.map((run, r) => hono[r].cpu_ms_per_request / run.cpu_ms_per_request);
    const added = previous ? runs.map((run, r) => run.cpu_ms_per_request - previous[r].cpu_ms_per_request) : null;
    return {
      key: step.key,
      label: step.label,
      piece: step.piece ?? null,
      rps: round(median(runs.map((run) => run.rps)), 1),
      p50_ms: median(runs.map((run) => run.p50_ms)),
      p99_ms: median(runs.map((run) => run.p99_ms)),
      cpu_ms_per_request: round(median(runs.map((run) => run.cpu_ms_per_request)), 3),
      rps_ratio_to_hono: round(median(rpsRatios), 3),
      rps_ratio_range: [round(Math.min(...rpsRatios), 2), round(Math.max(...rpsRatios), 2)],
      cpu_ratio_to_hono: round(median(cpuRatios), 3),
      cpu_ratio_range: [round(Math.min(...cpuRatios), 2), round(Math.max(...cpuRatios), 2)],
      cpu_ms_added: added ? round(median(added), 3) : null,
      cpu_ms_added_range: added ? [round(Math.min(...added), 3), round(Math.max(...added), 3)] : null,
    };
  });
  return { rounds, seconds_per_step: seconds, steps };
}

export async function edgeFigures(rt, { memberToken, admin }) {
  const url = (path) => `${rt.baseUrl}${path}`;
  const login = await request(url("/api/v1/auth/login"), {
    method: "POST",
    json: { email: admin.email, password: admin.password },
  });
  const adminToken = login.body.access_token;
  const auth = { authorization: `Bearer ${memberToken}` };
  const pids = workerdPids();
  const out = { workerd_pids: pids.length, floors: [], routes: [], scale: [] };

  const chain = await chainRounds(rt, pids, {
    rounds: Number(process.env.BENCH_CHAIN_ROUNDS ?? 7),
    seconds: Number(process.env.BENCH_CHAIN_SECONDS ?? 3),
  });
  out.chain_rounds = chain;
  const app = chain.steps.find((step) => step.key === "app");
  const pieces = chain.steps.filter((step) => step.cpu_ms_added !== null);
  const largest = pieces.reduce((a, b) => (b.cpu_ms_added > a.cpu_ms_added ? b : a));
  const honoCpu = chain.steps.find((step) => step.key === "hono").cpu_ms_per_request;
  out.chain = {
    rps_ratio: app.rps_ratio_to_hono,
    cpu_ratio: app.cpu_ratio_to_hono,
    target: EDGE_TARGETS.chain,
    pass: app.rps_ratio_to_hono >= EDGE_TARGETS.chain && app.cpu_ratio_to_hono >= EDGE_TARGETS.chain,
    largest_piece: {
      piece: largest.piece,
      cpu_ms_added: largest.cpu_ms_added,
      share_of_bare_hono: round(largest.cpu_ms_added / honoCpu, 3),
    },
  };
  const appRps = app.rps;

  // A product for the item reads, created through the API (as an admin).
  const created = await request(url("/api/v1/products"), {
    method: "POST",
    token: adminToken,
    json: { name: "Bench lamp", brand: "Bench", price: 12.5 },
  });
  const sku = created.body.sku;
  const routes = [
    { key: "product_warm", label: "GET /products/{sku} anonymous, warm cache", path: `/api/v1/products/${sku}` },
    { key: "list_warm", label: "GET /products?limit=20 anonymous, warm cache", path: "/api/v1/products?limit=20" },
    { key: "list_cold", label: "GET /products?limit=20 anonymous, cold (a new key each request)", cold: true },
    {
      key: "product_signed_in",
      label: "GET /products/{sku} signed in",
      path: `/api/v1/products/${sku}`,
      headers: auth,
    },
    {
      key: "products_signed_in",
      label: "GET /products?limit=20 signed in",
      path: "/api/v1/products?limit=20",
      headers: auth,
    },
    { key: "tasks_list", label: "GET /tasks?limit=20 signed in", path: "/api/v1/tasks?limit=20", headers: auth },
    {
      key: "tasks_create",
      label: "POST /tasks signed in",
      path: "/api/v1/tasks",
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ title: "Benchmark task" }),
    },
  ];
  let coldRun = 0;
  for (const route of routes) {
    let result;
    let cost;
    if (route.cold) {
      coldRun += 1;
      const paths = Array.from({ length: 3000 }, (_, i) => `/api/v1/products?limit=20&cold=${coldRun}-${i}`);
      const before = cpuSeconds(pids);
      result = await fixedAmount(rt.baseUrl, paths, { amount: paths.length, maxSeconds: 60 });
      result.cpu_ms_per_request = round(((cpuSeconds(pids) - before) * 1000) / result.requests, 3);
      cost = await d1Of(url(`/api/v1/products?limit=20&cold=probe-${Date.now()}`));
    } else {
      // Warm the cache (for the anonymous routes) and read the cost of one request like the measured ones.
      await d1Of(url(route.path), { method: route.method, headers: route.headers, body: route.body });
      cost = await d1Of(url(route.path), { method: route.method, headers: route.headers, body: route.body });
      result = await measured(pids, url(route.path), route);
    }
    out.routes.push({
      key: route.key,
      label: route.label,
      ...result,
      ratio_to_app: round(result.rps / appRps, 3),
      x_cache: cost.cache,
      d1_round_trips: cost.rt ?? null,
      rows_read: cost.read ?? null,
      rows_written: cost.written ?? null,
    });
  }
  const warm = out.routes.find((r) => r.key === "product_warm");
  out.warm_read = {
    ratio: warm.ratio_to_app,
    rows_read: warm.rows_read,
    target: EDGE_TARGETS.warm_read,
    pass: warm.ratio_to_app >= EDGE_TARGETS.warm_read && warm.rows_read === 0,
  };
  out.signed_in_reads_one_round_trip = out.routes
    .filter((r) => r.key.endsWith("signed_in") || r.key === "tasks_list")
    .every((r) => r.d1_round_trips === 1);

  // List reads at 1,000 and 100,000 rows: rows read per page (signed in, so the cache stays out of it).
  for (const size of [1000, 100_000]) {
    for (const table of ["products", "tasks"]) {
      const seeded = await request(url(`/__bench/seed?table=${table}&rows=${size}`), { timeoutMs: 120_000 });
      const path = `/api/v1/${table}?limit=20`;
      const cost = await d1Of(url(path), { headers: auth });
      const result = await measure(url(path), {
        headers: auth,
        duration: Math.min(4, Number(process.env.BENCH_DURATION ?? 8)),
      });
      out.scale.push({
        table,
        rows: seeded.body.rows,
        rps: result.rps,
        p50_ms: result.p50_ms,
        p99_ms: result.p99_ms,
        non2xx: result.non2xx,
        d1_round_trips: cost.rt,
        rows_read: cost.read,
      });
    }
  }
  const readsAt = (table, rows) => out.scale.find((r) => r.table === table && r.rows >= rows)?.rows_read;
  out.rows_read_flat = ["products", "tasks"].every((t) => readsAt(t, 1000) === readsAt(t, 100_000));
  return out;
}
