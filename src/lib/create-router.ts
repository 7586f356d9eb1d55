import { zodToOpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { OpenAPIHono, z } from "@hono/zod-openapi";
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

type AnySchema = z.ZodType & { _zod: { def: Record<string, unknown> }; clone(def: unknown): z.ZodType };
const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "readonly", "nonoptional"]);

/** A copy of `schema` with a changed definition, keeping its OpenAPI name, description and examples. */
function rebuilt(schema: AnySchema, def: Record<string, unknown>): z.ZodType {
  const copy = schema.clone(def);
  const openapi = zodToOpenAPIRegistry.get(schema);
  if (openapi) zodToOpenAPIRegistry.add(copy, openapi);
  // An `id` names one schema only (zod refuses a second); the copy keeps the rest.
  const { id: _id, ...meta } = z.globalRegistry.get(schema) ?? {};
  if (Object.keys(meta).length > 0) z.globalRegistry.add(copy, meta);
  return copy;
}

/**
 * The same schema with every object in it closed: an unknown key is a validation failure (422) instead of being
 * dropped, and the document says `additionalProperties: false`. Objects that chose a catchall keep it. Checks,
 * defaults, refinements and OpenAPI metadata are kept; a schema with nothing to close is returned as it is.
 */
export function strictSchema<T extends z.ZodType>(schema: T): T {
  const s = schema as unknown as AnySchema;
  const def = s._zod.def;
  switch (def.type) {
    case "object": {
      const shape = def.shape as Record<string, z.ZodType>;
      const next = Object.fromEntries(Object.entries(shape).map(([key, child]) => [key, strictSchema(child)]));
      const changed = Object.keys(shape).some((key) => next[key] !== shape[key]);
      if (!changed && def.catchall) return schema;
      return rebuilt(s, { ...def, shape: next, catchall: def.catchall ?? z.never() }) as unknown as T;
    }
    case "array": {
      const element = strictSchema(def.element as z.ZodType);
      return (element === def.element ? schema : rebuilt(s, { ...def, element })) as T;
    }
    case "pipe": {
      const [input, output] = [strictSchema(def.in as z.ZodType), strictSchema(def.out as z.ZodType)];
      return (input === def.in && output === def.out ? schema : rebuilt(s, { ...def, in: input, out: output })) as T;
    }
    case "union": {
      const options = (def.options as z.ZodType[]).map((option) => strictSchema(option));
      const changed = options.some((option, i) => option !== (def.options as z.ZodType[])[i]);
      return (changed ? rebuilt(s, { ...def, options }) : schema) as T;
    }
    default: {
      if (!WRAPPERS.has(def.type as string)) return schema;
      const inner = strictSchema(def.innerType as z.ZodType);
      return (inner === def.innerType ? schema : rebuilt(s, { ...def, innerType: inner })) as T;
    }
  }
}

type RouteLike = {
  method?: string;
  request?: { body?: { content?: Record<string, { schema?: unknown } | undefined> } };
};

/**
 * The route with its request bodies' schemas made strict (see strictSchema). A PATCH body must change something
 * (every PATCH schema refuses `{}` with a 422); the document says so with `minProperties: 1`.
 */
function withStrictBodies<R extends RouteLike>(route: R): R {
  const content = route.request?.body?.content;
  if (!content) return route;
  const close = (schema: z.ZodType) => {
    const strict = strictSchema(schema);
    return route.method === "patch" ? strict.openapi({ minProperties: 1 }) : strict;
  };
  const strict = Object.fromEntries(
    Object.entries(content).map(([type, media]) => [
      type,
      media?.schema instanceof z.ZodType ? { ...media, schema: close(media.schema) } : media,
    ]),
  );
  return { ...route, request: { ...route.request, body: { ...route.request?.body, content: strict } } };
}

/**
 * A router for one resource; mounted with app.route() so type-checking stays fast. Every operation registered on it
 * gets strict JSON bodies (unknown fields are a 422), whatever its schema file says, so a new route cannot forget.
 */
export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({ strict: false, defaultHook });
  const register = router.openapi;
  router.openapi = ((route: RouteLike, ...rest: unknown[]) =>
    (register as (...args: unknown[]) => unknown)(withStrictBodies(route), ...rest)) as typeof router.openapi;
  return router;
}
