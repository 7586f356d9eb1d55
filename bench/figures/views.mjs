// View counting: 10,000 anonymous single-product reads over 10 products, exact counts after the queue drains, and
// the D1 statements the consumer ran for them.
import { performance } from "node:perf_hooks";
import { fixedAmount, round } from "../lib/load.mjs";
import { pollUntil, sleep } from "../lib/proc.mjs";

export const VIEWS = Number(process.env.BENCH_VIEWS ?? 10_000);
/** Bound on the read phase whatever the speed; the counts are then checked against the reads actually served. */
const MAX_READ_SECONDS = 240;
export const VIEW_SKUS = Array.from(
  { length: 10 },
  (_, i) => `dddddddd-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
);

/** Ten products with no views, seeded before the app starts. */
export function viewProductsSql(now = Date.now()) {
  return VIEW_SKUS.map(
    (sku, i) =>
      `INSERT OR IGNORE INTO products (sku, name, brand, price_cents, views, created_at, updated_at) VALUES ('${sku}', 'Bench product ${i + 1}', 'Benchbrand', ${1000 + i}, 0, ${now}, ${now});`,
  ).join("\n");
}

export async function viewFigures(rt) {
  rt.sink.reset();
  const skuList = VIEW_SKUS.map((s) => `'${s}'`).join(",");
  const before = Number(await rt.countRows(`SELECT coalesce(sum(views), 0) FROM products WHERE sku IN (${skuList})`));
  const load = await fixedAmount(
    rt.baseUrl,
    VIEW_SKUS.map((sku) => `/api/v1/products/${sku}`),
    { amount: VIEWS, maxSeconds: MAX_READ_SECONDS },
  );
  const served = load.requests - load.non2xx - load.errors;
  const drainStarted = performance.now();
  const summary = `SELECT sum(views) || ',' || min(views) || ',' || max(views) FROM products WHERE sku IN (${skuList})`;
  const reached = await pollUntil(
    async () => {
      const [sum] = String(await rt.countRows(summary))
        .split(",")
        .map(Number);
      return sum - before >= served ? true : null;
    },
    { timeoutMs: 180_000, intervalMs: 1000 },
  );
  const drainSeconds = (performance.now() - drainStarted) / 1000;
  await sleep(1500); // the broker logs a batch after the consumer returns
  const [sum, min, max] = String(await rt.countRows(summary))
    .split(",")
    .map(Number);
  const daily = Number(
    await rt.countRows(`SELECT coalesce(sum(views), 0) FROM product_views_daily WHERE sku IN (${skuList})`),
  );
  const batches = rt.sink.queueBatches.filter((b) => b.queue === "views");
  const d1 = rt.sink.d1.filter((l) => l.types?.["product.view"]);
  const counted = d1.length > 0;
  const writes = d1.reduce((n, l) => n + l.writes, 0);
  const updates = d1.reduce((n, l) => n + (l.by_kind?.UPDATE ?? 0), 0);
  const perThousand = (n) => round((n / Math.max(1, sum - before)) * 1000, 1);
  const perProductPerBatch = d1.map((l) => (l.by_kind?.UPDATE ?? 0) / Math.max(1, l.distinct_skus));
  return {
    reads: load.requests,
    reads_per_s: load.rps,
    non2xx: load.non2xx,
    errors: load.errors,
    views_counted: sum - before,
    exact: reached === true && sum - before === served && min === max && min * VIEW_SKUS.length === sum,
    per_product: { min, max, expected: served / VIEW_SKUS.length },
    daily_rows_total: daily,
    drain_s: round(drainSeconds, 1),
    queue_batches: batches.length || null,
    messages_per_batch: batches.length ? round(batches.reduce((n, b) => n + b.total, 0) / batches.length, 1) : null,
    statements_counted: counted,
    d1_write_statements: counted ? writes : null,
    d1_write_statements_per_1000_views: counted ? perThousand(writes) : null,
    product_updates_per_1000_views: counted ? perThousand(updates) : null,
    max_updates_per_product_per_batch: counted ? round(Math.max(...perProductPerBatch), 2) : null,
    d1_statement_kinds: counted
      ? d1.reduce((acc, l) => {
          for (const [k, v] of Object.entries(l.by_kind)) acc[k] = (acc[k] ?? 0) + v;
          return acc;
        }, {})
      : null,
    pass: counted ? Math.max(...perProductPerBatch) <= 1 : null,
  };
}
