import pkg from "../../../package.json";
import type { Handler } from "../../env";
import { errorFields, log } from "../../lib/log";
import type { health, live } from "./health.routes";

export const getHealth: Handler<typeof health> = async (c) => {
  const started = Date.now();
  try {
    await c.var.d1.prepare("SELECT 1").first();
    return c.json(
      {
        status: "ok" as const,
        version: pkg.version,
        checks: { db: { status: "ok" as const, latency_ms: Date.now() - started } },
      },
      200,
    );
  } catch (error) {
    log("error", "health check: database did not answer", { request_id: c.get("requestId"), ...errorFields(error) });
    return c.json(
      {
        status: "degraded" as const,
        version: pkg.version,
        checks: {
          db: {
            status: "error" as const,
            latency_ms: Date.now() - started,
            error: "the database did not answer",
          },
        },
      },
      503,
    );
  }
};

export const getLive: Handler<typeof live> = (c) => c.json({ status: "ok" as const }, 200);
