import { createRoute, z } from "@hono/zod-openapi";
import { jsonContent } from "../../lib/openapi";

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "degraded"]),
    version: z.string(),
    checks: z.object({
      db: z.object({ status: z.enum(["ok", "error"]), latency_ms: z.number(), error: z.string().optional() }),
    }),
  })
  .openapi("Health");

export const health = createRoute({
  method: "get",
  path: "/health",
  operationId: "getHealth",
  tags: ["health"],
  summary: "Liveness and database check",
  description: "Answers 200 when D1 answers a trivial query, 503 (same body shape) when it does not.",
  responses: {
    200: jsonContent(HealthSchema, "The app and its database are up"),
    503: jsonContent(HealthSchema, "The database does not answer"),
  },
});

export const LiveSchema = z.object({ status: z.literal("ok") }).openapi("Live");

export const live = createRoute({
  method: "get",
  path: "/health/live",
  operationId: "getLiveness",
  tags: ["health"],
  summary: "Liveness probe (no database)",
  description:
    'Answers a constant `{ "status": "ok" }` without touching D1: a liveness probe for orchestrators, and the bare ' +
    "route the benchmarks compare every other route against (the platform's own limit on a machine).",
  responses: { 200: jsonContent(LiveSchema, "The Worker is running") },
});
