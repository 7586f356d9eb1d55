import { and, asc, between, desc, eq, sql, sum } from "drizzle-orm";
import { products, productViewsDaily } from "../../db/schema";
import type { Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { dayStart, utcDay } from "../../lib/time";
import type * as routes from "./reports.routes";
import { MAX_REPORT_DAYS } from "./reports.schemas";

const DAY_MS = 86_400_000;

/** Every UTC day from `from` to `to`, inclusive. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let t = dayStart(from); t <= dayStart(to); t += DAY_MS) days.push(utcDay(t));
  return days;
}

/** The report's UTC days from the query (default: the last 7 days to today), refused when reversed or too long. */
export function reportDays(query: { from?: string; to?: string }): { from: string; to: string; days: string[] } {
  const to = query.to ?? utcDay(Date.now());
  const from = query.from ?? utcDay(dayStart(to) - 6 * DAY_MS);
  if (from > to) {
    throw new ApiError("bad_request", "`from` is after `to`.", {
      errors: [{ path: "from", message: "must not be after to" }],
    });
  }
  // The span is checked before the days are listed: a range of centuries must not build millions of strings first.
  const span = (dayStart(to) - dayStart(from)) / DAY_MS + 1;
  if (span > MAX_REPORT_DAYS) {
    throw new ApiError("bad_request", `The range spans ${span} days; at most ${MAX_REPORT_DAYS} are allowed.`, {
      errors: [{ path: "from", message: `at most ${MAX_REPORT_DAYS} days before to` }],
    });
  }
  return { from, to, days: daysBetween(from, to) };
}

export const productViews: Handler<typeof routes.productViews> = async (c) => {
  const query = c.req.valid("query");
  const { from, to, days } = reportDays(query);

  const { db } = c.var;
  const total = sql<number>`cast(${sum(productViewsDaily.views)} as integer)`;
  const top = await db
    .select({ sku: products.sku, name: products.name, brand: products.brand, total })
    .from(productViewsDaily)
    .innerJoin(products, eq(products.sku, productViewsDaily.sku))
    .where(between(productViewsDaily.day, from, to))
    .groupBy(products.sku)
    .orderBy(desc(total), asc(products.sku))
    .limit(query.limit);

  const perDay = new Map<string, Map<string, number>>();
  if (top.length > 0) {
    // The SKUs travel as one JSON parameter, so the statement binds 3 parameters whatever the limit.
    const rows = await db
      .select({ sku: productViewsDaily.sku, day: productViewsDaily.day, views: productViewsDaily.views })
      .from(productViewsDaily)
      .where(
        and(
          between(productViewsDaily.day, from, to),
          sql`${productViewsDaily.sku} IN (SELECT value FROM json_each(${JSON.stringify(top.map((p) => p.sku))}))`,
        ),
      );
    for (const row of rows) {
      const series = perDay.get(row.sku) ?? new Map<string, number>();
      series.set(row.day, row.views);
      perDay.set(row.sku, series);
    }
  }

  return c.json(
    {
      from,
      to,
      items: top.map((product) => ({
        sku: product.sku,
        name: product.name,
        brand: product.brand,
        total_views: Number(product.total),
        series: days.map((day) => ({ day, views: perDay.get(product.sku)?.get(day) ?? 0 })),
      })),
    },
    200,
  );
};

export const productViewsSeries: Handler<typeof routes.productViewsSeries> = async (c) => {
  const { sku } = c.req.valid("param");
  const { from, to, days } = reportDays(c.req.valid("query"));
  const { db } = c.var;
  const [[product], rows] = await db.batch([
    db.select({ name: products.name, brand: products.brand }).from(products).where(eq(products.sku, sku)),
    db
      .select({ day: productViewsDaily.day, views: productViewsDaily.views })
      .from(productViewsDaily)
      .where(and(eq(productViewsDaily.sku, sku), between(productViewsDaily.day, from, to))),
  ]);
  if (!product) throw new ApiError("not_found", `No product with sku ${sku}.`);
  const byDay = new Map(rows.map((row) => [row.day, row.views]));
  const series = days.map((day) => ({ day, views: byDay.get(day) ?? 0 }));
  return c.json(
    {
      sku,
      name: product.name,
      brand: product.brand,
      from,
      to,
      total_views: series.reduce((sum, point) => sum + point.views, 0),
      series,
    },
    200,
  );
};
