// REST throughput and latency, each route as a ratio to the bare route measured in the same harness.
import { measure, round } from "../lib/load.mjs";

export const TARGETS = { read: 0.5, write: 0.25 };

export async function restFigures(rt, { memberToken }) {
  const auth = { authorization: `Bearer ${memberToken}` };
  const url = (path) => `${rt.baseUrl}${path}`;
  // The bare route is measured before and after the others; the ratio uses the mean, which evens out drift.
  const bareBefore = await measure(url("/health/live"));
  const routes = [
    // Not a target: the bare route plus one trivial D1 query, to show what a D1 round trip alone costs here.
    { key: "health_db", label: "GET /health (reference: one D1 SELECT 1)", kind: "reference", path: "/health" },
    {
      key: "products_list",
      label: "GET /api/v1/products?limit=20 (anonymous)",
      kind: "read",
      path: "/api/v1/products?limit=20",
    },
    {
      key: "tasks_list",
      label: "GET /api/v1/tasks?limit=20 (signed in)",
      kind: "read",
      path: "/api/v1/tasks?limit=20",
      headers: auth,
    },
    {
      key: "tasks_create",
      label: "POST /api/v1/tasks (signed in)",
      kind: "write",
      path: "/api/v1/tasks",
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ title: "Benchmark task", description: "written by npm run bench" }),
    },
  ];
  const measured = {};
  for (const route of routes) {
    measured[route.key] = await measure(url(route.path), route);
  }
  const bareAfter = await measure(url("/health/live"));
  const bareRps = (bareBefore.rps + bareAfter.rps) / 2;
  const rows = [
    {
      key: "bare",
      label: "GET /health/live (bare, constant JSON)",
      kind: "bare",
      ...bareBefore,
      rps: round(bareRps, 1),
      rps_before: bareBefore.rps,
      rps_after: bareAfter.rps,
      p50_ms: Math.max(bareBefore.p50_ms, bareAfter.p50_ms),
      p99_ms: Math.max(bareBefore.p99_ms, bareAfter.p99_ms),
      non2xx: bareBefore.non2xx + bareAfter.non2xx,
      errors: bareBefore.errors + bareAfter.errors,
      ratio: 1,
      target: null,
      pass: null,
    },
  ];
  for (const route of routes) {
    const m = measured[route.key];
    const ratio = round(m.rps / bareRps, 3);
    const target = TARGETS[route.kind] ?? null;
    rows.push({
      key: route.key,
      label: route.label,
      kind: route.kind,
      ...m,
      ratio,
      target,
      pass: target === null ? null : m.non2xx === 0 && m.errors === 0 && ratio >= target,
    });
  }
  return rows;
}
