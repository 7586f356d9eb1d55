import { createRoute } from "@hono/zod-openapi";
import { requireCaller, requireRole } from "../../auth/require-auth";
import { bearerSecurity, errorResponses, jsonContent } from "../../lib/openapi";
import { ProductViewsQuery, ProductViewsReportSchema } from "./reports.schemas";

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
