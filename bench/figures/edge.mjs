// REST at the edge (issue 15): floors, the middleware chain, D1 cost per route from Server-Timing, Worker CPU per
// request, the catalog cache cold and warm, and list reads at 1,000 and 100,000 rows. One workerd process, one run.
import { readdirSync, readFileSync } from "node:fs";
import { fixedAmount, measure, request, round } from "../lib/load.mjs";

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

/** A measured run with the Worker CPU it cost (workerd's CPU time over the requests served). */
async function measured(pids, run) {
  const before = cpuSeconds(pids);
  const result = await run();
  const cpu = cpuSeconds(pids) - before;
  return { ...result, cpu_ms_per_request: result.requests ? round((cpu * 1000) / result.requests, 3) : null };
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

  // Floors and the chain, interleaved so drift evens out: trivial, hono, app, app, hono, trivial.
  const floor = async (key, label, path) => ({ key, label, ...(await measured(pids, () => measure(url(path)))) });
  const first = [
    await floor("trivial", "trivial fetch handler (constant JSON)", "/__bench/trivial"),
    await floor("hono", "bare Hono route (constant JSON)", "/__bench/hono"),
    await floor("app", "app GET /health/live (whole middleware chain)", "/health/live"),
  ];
  const second = [
    await floor("app", "", "/health/live"),
    await floor("hono", "", "/__bench/hono"),
    await floor("trivial", "", "/__bench/trivial"),
  ];
  for (const row of first) {
    const again = second.find((r) => r.key === row.key);
    out.floors.push({
      ...row,
      rps: round((row.rps + again.rps) / 2, 1),
      rps_runs: [row.rps, again.rps],
      p50_ms: Math.max(row.p50_ms, again.p50_ms),
      p99_ms: Math.max(row.p99_ms, again.p99_ms),
      cpu_ms_per_request: round((row.cpu_ms_per_request + again.cpu_ms_per_request) / 2, 3),
    });
  }
  // What each piece of the chain costs: the constant route behind one more piece per step.
  out.chain_steps = [];
  for (const [key, label] of [
    ["log", "bare Hono + the per-request log line"],
    ["edge", "bare Hono + edge (request id, security headers, Server-Timing, log line)"],
    ["guard", "… + edgeGuard (config check, bookmark, lazy D1 session)"],
  ]) {
    const result = await measured(pids, () => measure(url(`/__bench/chain/${key}`)));
    out.chain_steps.push({ key, label, ...result });
  }
  const rps = (key) => out.floors.find((r) => r.key === key).rps;
  for (const step of out.chain_steps) step.ratio_to_hono = round(step.rps / rps("hono"), 3);
  out.chain = {
    ratio: round(rps("app") / rps("hono"), 3),
    target: EDGE_TARGETS.chain,
    pass: rps("app") / rps("hono") >= EDGE_TARGETS.chain,
  };

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
      result = await measured(pids, () => fixedAmount(rt.baseUrl, paths, { amount: paths.length, maxSeconds: 60 }));
      cost = await d1Of(url(`/api/v1/products?limit=20&cold=probe-${Date.now()}`));
    } else {
      // Warm the cache (for the anonymous routes) and read the cost of one request like the measured ones.
      await d1Of(url(route.path), { method: route.method, headers: route.headers, body: route.body });
      cost = await d1Of(url(route.path), { method: route.method, headers: route.headers, body: route.body });
      result = await measured(pids, () => measure(url(route.path), route));
    }
    out.routes.push({
      key: route.key,
      label: route.label,
      ...result,
      ratio_to_app: round(result.rps / rps("app"), 3),
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
