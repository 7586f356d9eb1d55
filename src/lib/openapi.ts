import { z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE, PROBLEMS, type ProblemCode } from "./errors";

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "https://edge-backoffice.dev/problems/not-found" }),
    title: z.string().openapi({ example: "Not Found" }),
    status: z.number().int().openapi({ example: 404 }),
    detail: z.string().openapi({ example: "No task with that id." }),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z
      .array(z.object({ path: z.string(), message: z.string() }))
      .optional()
      .openapi({ description: "Present on validation failures: one entry per offending field." }),
  })
  .catchall(z.unknown())
  .openapi("Problem", { description: "RFC 9457 problem details." });

const DESCRIPTIONS: Partial<Record<number, string>> = {
  400: "Malformed request (bad JSON, invalid query or path parameter)",
  401: "Not authenticated: missing, invalid or expired bearer token",
  403: "Authenticated but not allowed",
  404: "Not found",
  409: "Conflict with the current state",
  413: "Request body larger than 1 MiB",
  415: "Content type is not application/json",
  422: "Well-formed body that fails validation",
  426: "A WebSocket upgrade is required",
  429: "Rate limited; see Retry-After",
  500: "Unexpected error",
  503: "A dependency (D1) is unavailable",
};

/** Statuses whose answer says when to try again. */
const RETRY_AFTER_HEADER = {
  "Retry-After": {
    description: "Whole seconds until a retry can succeed.",
    schema: { type: "integer" as const, minimum: 1 },
  },
};

/** Shared problem+json responses, spread into every route: `responses: { 200: ..., ...errorResponses(401, 404) }`. */
export function errorResponses<const S extends number>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? "Error",
        ...(status === 429 && { headers: RETRY_AFTER_HEADER }),
        content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
      },
    ]),
  ) as Record<S, { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } } }>;
}

/** Errors any JSON write can produce before a handler runs. */
export const BODY_ERRORS = [400, 413, 415, 422] as const;

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** A required JSON request body: a missing body is a 422, a non-JSON content type a 415. */
export function jsonBody<T extends z.ZodType>(schema: T, description?: string) {
  return { required: true, description, content: { "application/json": { schema } } };
}

export const BEARER_AUTH = "bearerAuth";
/** Security requirement for a route that needs a signed-in caller; makes Swagger UI's "Authorize" apply. */
export const bearerSecurity = [{ [BEARER_AUTH]: [] }];

export const UuidParam = (name: string) =>
  z.object({
    [name]: z.uuid().openapi({ param: { name, in: "path" }, example: "0b3d4b5e-8e7f-4a1f-9c1e-2f3a4b5c6d7e" }),
  });

export type { ProblemCode };
export { PROBLEMS };
