import { z } from "@hono/zod-openapi";
import { queryInt } from "../../lib/pagination";

export const MAX_REPORT_DAYS = 366;
export const MAX_REPORT_LIMIT = 50;

const Day = (name: string, description: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC date as YYYY-MM-DD")
    .refine(
      (value) =>
        !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) &&
        new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
      {
        message: "not a calendar date",
      },
    )
    .optional()
    .openapi({ param: { name, in: "query" }, description, example: "2026-01-31" });

export const ProductViewsQuery = z.object({
  from: Day("from", "First UTC day, inclusive. Default: 6 days before `to`."),
  to: Day("to", "Last UTC day, inclusive. Default: today (UTC)."),
  limit: queryInt(z.number().int().min(1).max(MAX_REPORT_LIMIT))
    .default(10)
    .openapi({ param: { name: "limit", in: "query" }, description: "How many products (1 to 50).", example: 10 }),
});

const ProductViewsItemSchema = z.object({
  sku: z.uuid(),
  name: z.string(),
  brand: z.string(),
  total_views: z.number().int(),
  series: z
    .array(z.object({ day: z.string(), views: z.number().int() }))
    .openapi({ description: "One entry per day from `from` to `to`, zero-filled." }),
});

export const ProductViewsReportSchema = z
  .object({
    from: z.string().openapi({ example: "2026-01-25" }),
    to: z.string().openapi({ example: "2026-01-31" }),
    items: z.array(ProductViewsItemSchema),
  })
  .openapi("ProductViewsReport");

export const ProductViewsSeriesQuery = ProductViewsQuery.pick({ from: true, to: true });

export const ProductViewsSeriesSchema = ProductViewsItemSchema.extend({
  from: z.string().openapi({ example: "2026-01-25" }),
  to: z.string().openapi({ example: "2026-01-31" }),
}).openapi("ProductViewsSeries");
