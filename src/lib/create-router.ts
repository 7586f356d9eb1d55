import { OpenAPIHono } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import type { AppEnv } from "../env";
import { ApiError, type FieldError } from "./errors";

/** zod issues as `{ path, message }`, the path dotted (`events.3.x`); the body root is `(body)`. */
export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    path: issue.path.length > 0 ? issue.path.map(String).join(".") : "(body)",
    message: issue.message,
  }));
}

/**
 * Every zod failure becomes problem+json: an invalid JSON body is 422 (well-formed but wrong), an invalid path,
 * query or header is 400 (the request itself is malformed).
 */
export function defaultHook(result: { target: string; success: boolean; error?: ZodError }) {
  if (result.success || !result.error) return;
  const errors = fieldErrors(result.error);
  if (result.target === "json" || result.target === "form") {
    throw new ApiError("validation_failed", "The request body is invalid.", { errors });
  }
  throw new ApiError("bad_request", `Invalid ${result.target === "param" ? "path" : result.target} parameters.`, {
    errors,
  });
}

/** A router for one resource; mounted with app.route() so type-checking stays fast. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({ strict: false, defaultHook });
}
