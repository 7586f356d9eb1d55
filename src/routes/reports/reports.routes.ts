import { createRoute } from "@hono/zod-openapi";
import { requireCaller, requireRole } from "../../auth/require-auth";
import { bearerSecurity, errorResponses, jsonContent, UuidParam } from "../../lib/openapi";
import {
  ProductViewsQuery,
  ProductViewsReportSchema,
  ProductViewsSeriesQuery,
  ProductViewsSeriesSchema,
} from "./reports.schemas";

export const productViews = createRoute({
  method: "get",
  path: "/reports/product-views",
  operationId: "reportProductViews",
  tags: ["reports"],
  summary: "Most viewed products (admin)",
  description:
    "The `limit` products with the most anonymous views between `from` and `to` (UTC days, inclusive, at most 366 " +
    "days), most viewed first, each with its daily series. Counts come from the `views` queue, so views still in " +
    "the queue are not included yet; deleted products are left out.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")] as const,
  request: { query: ProductViewsQuery },
  responses: {
    200: jsonContent(ProductViewsReportSchema, "The report"),
    ...errorResponses(400, 401, 403),
  },
});

export const productViewsSeries = createRoute({
  method: "get",
  path: "/reports/product-views/{sku}",
  operationId: "reportProductViewsSeries",
  tags: ["reports"],
  summary: "One product's views per day (admin)",
  description:
    "The product's anonymous views on each UTC day from `from` to `to` (inclusive, at most 366 days; default the " +
    "last 7 days to today), zero-filled, and their total. Counts come from the views queue, so views still in " +
    "the queue are not included yet. 404 when no product has this sku (a deleted product's views are not reported).",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")] as const,
  request: { params: UuidParam("sku"), query: ProductViewsSeriesQuery },
  responses: {
    200: jsonContent(ProductViewsSeriesSchema, "The product's daily views"),
    ...errorResponses(400, 401, 403, 404),
  },
});
