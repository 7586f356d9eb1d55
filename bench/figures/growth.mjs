// Growth: list latency at 1,000 and at 100,000 rows, seeded in bulk through Miniflare's D1 binding. Few connections,
// so p50 is the time a request takes rather than time spent queueing behind others.
import { measure, round } from "../lib/load.mjs";

export const TARGET_GROWTH = 2;
const SIZES = [1_000, 100_000];
const MEMBER_ID = "00000000-0000-4000-8000-00000000a002"; // the demo member from scripts/seed.mjs

/** One INSERT … SELECT over a recursive counter: rows from..to, in a single statement. */
function tasksSql(from, to, now) {
  return `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to})
INSERT INTO tasks (id, title, description, status, expires_at, created_by, created_at, updated_at)
SELECT printf('bbbbbbbb-0000-4000-8000-%012d', i), 'Bench task ' || i, 'seeded by npm run bench',
  CASE i % 3 WHEN 0 THEN 'todo' WHEN 1 THEN 'in_progress' ELSE 'done' END, NULL, '${MEMBER_ID}',
  ${now} - i * 1000, ${now} - i * 1000
FROM n`;
}

function productsSql(from, to, now) {
  return `WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${to})
INSERT INTO products (sku, name, brand, price_cents, views, created_at, updated_at)
SELECT printf('cccccccc-0000-4000-8000-%012d', i), 'Bench product ' || i, 'Brand ' || (i % 50), 100 + (i % 10000), 0,
  ${now} - i * 1000, ${now} - i * 1000
FROM n`;
}

const ROUTES = [
  { key: "tasks", label: "GET /api/v1/tasks?limit=20", path: "/api/v1/tasks?limit=20", auth: true },
  {
    key: "tasks_status",
    label: "GET /api/v1/tasks?status=todo&limit=20",
    path: "/api/v1/tasks?status=todo&limit=20",
    auth: true,
  },
  { key: "products", label: "GET /api/v1/products?limit=20", path: "/api/v1/products?limit=20" },
  {
    key: "products_brand",
    label: "GET /api/v1/products?brand=Brand%207&limit=20",
    path: "/api/v1/products?brand=Brand%207&limit=20",
  },
];

export async function growthFigures(rt, { memberToken, durationSeconds }) {
  // Start from exactly the seeded rows: the REST run created tasks and the view run added products.
  await rt.execute("DELETE FROM notifications");
  await rt.execute("DELETE FROM tasks");
  await rt.execute("DELETE FROM products");
  const now = Date.now();
  const bySize = {};
  let seeded = 0;
  for (const size of SIZES) {
    const started = Date.now();
    await rt.execute(tasksSql(seeded + 1, size, now));
    await rt.execute(productsSql(seeded + 1, size, now));
    const seedSeconds = (Date.now() - started) / 1000;
    seeded = size;
    const counts = {
      tasks: Number(await rt.countRows("SELECT count(*) FROM tasks")),
      products: Number(await rt.countRows("SELECT count(*) FROM products")),
    };
    const measured = {};
    for (const route of ROUTES) {
      const headers = route.auth ? { authorization: `Bearer ${memberToken}` } : {};
      measured[route.key] = await measure(`${rt.baseUrl}${route.path}`, {
        headers,
        connections: 2,
        duration: durationSeconds,
      });
    }
    bySize[size] = { rows: counts, seed_s: round(seedSeconds, 1), routes: measured };
  }
  const [small, large] = SIZES;
  return ROUTES.map((route) => {
    const a = bySize[small].routes[route.key];
    const b = bySize[large].routes[route.key];
    const growth = a.p50_ms > 0 ? round(b.p50_ms / a.p50_ms, 2) : null;
    return {
      key: route.key,
      label: route.label,
      rows: { [small]: bySize[small].rows, [large]: bySize[large].rows },
      p50_ms: { [small]: a.p50_ms, [large]: b.p50_ms },
      p99_ms: { [small]: a.p99_ms, [large]: b.p99_ms },
      rps: { [small]: a.rps, [large]: b.rps },
      non2xx: a.non2xx + b.non2xx,
      growth,
      target: TARGET_GROWTH,
      pass: a.non2xx + b.non2xx === 0 && growth !== null && growth < TARGET_GROWTH,
    };
  });
}
