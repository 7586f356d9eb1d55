import type { OpenAPIRegistry } from "@asteasolutions/zod-to-openapi";
import { z } from "@hono/zod-openapi";
import { PROBLEM_CONTENT_TYPE, type ProblemCode } from "./errors";

/** Where every resource router is mounted (health and the docs are outside it). */
export const API_PREFIX = "/api/v1";

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

const DESCRIPTIONS: Partial<Record<number | string, string>> = {
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
  "5XX": "Unexpected server error; quote the X-Request-Id when reporting it",
  503: "A dependency (D1) is unavailable",
};

/** Shared problem+json responses, spread into every route: `responses: { 200: ..., ...errorResponses(401, 404) }`. */
export function errorResponses<const S extends number | "5XX">(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTIONS[status] ?? "Error",
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

type SecurityRequirement = Record<string, string[]>;
export const BEARER_AUTH = "bearerAuth";
export const CURSOR_SESSION_AUTH = "cursorSessionAuth";
export const CONSOLE_COOKIE_AUTH = "consoleCookie";
/**
 * Security requirement for a route that needs a signed-in caller; makes Swagger UI's "Authorize" apply. The console's
 * access cookie stands in for the bearer token (src/auth/console.ts).
 */
export const bearerSecurity: SecurityRequirement[] = [{ [BEARER_AUTH]: [] }, { [CONSOLE_COOKIE_AUTH]: [] }];
/** Anyone may call it; a bearer token (or the console's cookie) is optional (and a bad one is still a 401). */
export const optionalBearerSecurity: SecurityRequirement[] = [{}, { [BEARER_AUTH]: [] }, { [CONSOLE_COOKIE_AUTH]: [] }];
/** Only the holder of the cursor session's own token. */
export const sessionSecurity: SecurityRequirement[] = [{ [CURSOR_SESSION_AUTH]: [] }];
/** The cursor session's own token, or an admin's access token (or the console's cookie). */
export const sessionOrBearerSecurity: SecurityRequirement[] = [
  { [CURSOR_SESSION_AUTH]: [] },
  { [BEARER_AUTH]: [] },
  { [CONSOLE_COOKIE_AUTH]: [] },
];

const alternatives = (names: readonly string[]) => names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");

/**
 * Patterns for the query parameters whose values the handlers check themselves (with messages that name what is
 * allowed), so the document says exactly which values pass. test/hardening/query-patterns.test.ts compares each with
 * the parser it describes.
 */
export const queryPatterns = {
  /** `ordering`: one declared field, optionally prefixed by `-` (descending) or `+`; empty means the default. */
  ordering: (fields: readonly string[]) => `^(?:[-+]?(?:${alternatives(fields)}))?$`,
  /** `fields`/`omit`: comma-separated names, spaces around them and empty entries ignored. */
  fieldList: (fields: readonly string[]) => {
    const name = `(?:(?:${alternatives(fields)})\\s*)?`;
    return `^\\s*${name}(?:,\\s*${name})*$`;
  },
  /** A comma-separated list with at least one of `values` (empty entries and spaces ignored). */
  someOf: (values: readonly string[]) => {
    const one = `(?:${alternatives(values)})`;
    return `^[\\s,]*${one}\\s*(?:,\\s*(?:${one}\\s*)?)*$`;
  },
};

export const UuidParam = (name: string) =>
  z.object({
    [name]: z.uuid().openapi({ param: { name, in: "path" }, example: "0b3d4b5e-8e7f-4a1f-9c1e-2f3a4b5c6d7e" }),
  });

export type { ProblemCode };

// ---------------------------------------------------------------------------------------------------------------
// What every operation says without each route repeating it. `completeContract` runs once over the registry after
// every router is mounted (src/app.ts), so a route added later gets all of it too.

/** Response headers the app sends, as reusable components (`#/components/headers/<name>`). */
export const RESPONSE_HEADERS = {
  "X-Request-Id": {
    description: "Identifies this request in the logs (and in a problem's `request_id`); quote it when reporting.",
    required: true,
    schema: { type: "string" },
  },
  Location: { description: "The URL of what was created.", required: true, schema: { type: "string" } },
  "Retry-After": {
    description: "Seconds to wait before trying again.",
    required: true,
    schema: { type: "string", pattern: "^\\d+$", example: "1" },
  },
  "Retry-After-Unavailable": {
    description:
      "Seconds to wait before trying again, sent when a dependency (D1, the session's object) is briefly " +
      "unavailable; absent when the deployment itself is misconfigured, where waiting does not help.",
    required: false,
    schema: { type: "string", pattern: "^\\d+$", example: "1" },
  },
  "WWW-Authenticate": {
    description: 'The scheme to authenticate with (RFC 6750): `Bearer realm="edge-backoffice"`.',
    required: true,
    schema: { type: "string" },
  },
  "Server-Timing": {
    description:
      'What this request cost in D1: `d1;desc="rt=<round trips> read=<rows read> written=<rows written>";dur=<ms>` ' +
      "(shown in the browser's developer tools). Deployments with `SERVER_TIMING_D1_DETAIL=false` (production) send " +
      "only `d1;dur=<ms>`.",
    required: true,
    schema: { type: "string", example: 'd1;desc="rt=1 read=21 written=0";dur=3' },
  },
  "X-D1-Bookmark": {
    description:
      "The D1 session bookmark after this request (sent when it used D1). Send it back as `X-D1-Bookmark` to read " +
      "at least that fresh on the next request, from whichever replica serves it.",
    required: false,
    schema: { type: "string" },
  },
  "Cache-Control-Private": {
    description:
      "`no-store` on every response that carries a token or the caller's own data (RFC 6749 §5.1), so no browser " +
      "or shared cache keeps it.",
    required: false,
    schema: { type: "string", example: "private, no-store" },
  },
  "Set-Cookie-Device": {
    description:
      `The device token of a successful sign-in as an HttpOnly, SameSite=Strict cookie scoped to ${API_PREFIX}/auth ` +
      "(OWASP device cookies: attempts that present it count on the account's device budget, not its lock). The " +
      "console's routes (/auth/session…) also set or clear `__Host-access` and `__Host-refresh` (HttpOnly, Secure, " +
      "SameSite=Strict, Path=/).",
    required: false,
    schema: { type: "string" },
  },
} as const;
type HeaderComponent = keyof typeof RESPONSE_HEADERS;
const headerRef = (component: HeaderComponent) => ({ $ref: `#/components/headers/${component}` });

/** Top-level tags, in the order Swagger UI shows them; an operation's tag must be listed here (a test checks). */
export const TAGS: Record<string, string> = {
  health: "Liveness and readiness of the Worker and its database.",
  auth: "Sign-up, sign-in, token refresh and sign-out; the current user.",
  users: "Accounts, managed by admins.",
  tasks: "The task board: tasks with an optional expiry that sends notices.",
  notifications: "A user's in-app notices.",
  outbox: "Every mail the app wrote, its delivery status and attempts (admin).",
  products: "The product catalog: anyone reads, admins write; every change is kept in a history.",
  reports: "Figures aggregated from the `views` queue (admin).",
  cursor: "Live cursor analytics: sessions, event batches, WebSocket frames and statistics.",
};

const SECURITY_SCHEMES = {
  [BEARER_AUTH]: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: `An access token from POST ${API_PREFIX}/auth/login (15 minutes).`,
  },
  [CURSOR_SESSION_AUTH]: {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      `A cursor session token from POST ${API_PREFIX}/cursor/sessions (24 hours), good for that session's routes only. ` +
      "Sent as `Authorization: Bearer <token>`, or as `?token=` on the WebSocket route.",
  },
  [CONSOLE_COOKIE_AUTH]: {
    type: "apiKey",
    in: "cookie",
    name: "__Host-access",
    description:
      "The console's access cookie, set by POST /api/v1/auth/session. Taken only without `Authorization`, with the " +
      "header `X-Console: 1` and an `Origin` equal to the deployment's PUBLIC_ORIGIN (a GET or HEAD without Origin: " +
      "`Sec-Fetch-Site: same-origin`); a WebSocket upgrade needs the Origin only. Otherwise 403 (wrong Origin) or " +
      '401 (no header: the cookie is ignored). See docs/accounts.md, "The console: cookie sign-in".',
  },
} as const;

type Header = { $ref: string } | Record<string, unknown>;
type DocumentedResponse = { description: string; headers?: Record<string, Header>; [key: string]: unknown };

/**
 * Adds the headers a status carries, `[header name, component]`; one the route describes itself keeps its words and
 * takes the component's `required`.
 */
function withHeaders(response: DocumentedResponse, names: [string, HeaderComponent][]): DocumentedResponse {
  const headers: Record<string, Header> = { ...response.headers };
  for (const [name, component] of names) {
    const own = Object.keys(headers).find((declared) => declared.toLowerCase() === name.toLowerCase());
    if (own === undefined) headers[name] = headerRef(component);
    else if (!("$ref" in headers[own]!))
      headers[own] = { ...headers[own], required: RESPONSE_HEADERS[component].required };
  }
  return { ...response, headers };
}

/**
 * Completes every operation of the registry: `X-Request-Id` on every response, `Location` on 201, `Retry-After` on
 * 429 problems (and on 503 problems, where it is sent unless the deployment is misconfigured), `WWW-Authenticate` on the 401 of an operation that takes a token, a 503 and a default 5XX problem on
 * every API operation, `security: []` where a route declares none (public, said explicitly), `minProperties: 1`
 * on PATCH bodies; and registers the shared headers and security schemes.
 */
export function completeContract(registry: OpenAPIRegistry, apiPrefix: string) {
  for (const definition of registry.definitions) {
    if (definition.type !== "route") continue;
    const route = definition.route;
    const security = route.security ?? [];
    const takesToken = security.some((requirement) => Object.keys(requirement).length > 0);
    const responses: Record<string, DocumentedResponse> = {
      ...(route.responses as Record<string, DocumentedResponse>),
    };
    if (route.path.startsWith(apiPrefix)) {
      // Any /api request may meet the per-client backstop (429) or a failing D1 (503).
      Object.assign(
        responses,
        errorResponses(...([429, 503, "5XX"].filter((s) => !responses[s]) as (429 | 503 | "5XX")[])),
      );
    }
    for (const [status, response] of Object.entries(responses)) {
      const names: [string, HeaderComponent][] = [
        ["X-Request-Id", "X-Request-Id"],
        ["Server-Timing", "Server-Timing"],
        ["X-D1-Bookmark", "X-D1-Bookmark"],
      ];
      if (status === "201") names.push(["Location", "Location"]);
      // Only problems say when to retry (a health report's 503 does not).
      const problem = Boolean((response.content as Record<string, unknown> | undefined)?.[PROBLEM_CONTENT_TYPE]);
      if (status === "429" && problem) names.push(["Retry-After", "Retry-After"]);
      if (status === "503" && problem) names.push(["Retry-After", "Retry-After-Unavailable"]);
      if (status === "401" && takesToken) names.push(["WWW-Authenticate", "WWW-Authenticate"]);
      const accountRoute = route.path.startsWith(`${apiPrefix}/auth/`);
      const ownCacheControl = Object.keys(response.headers ?? {}).some((h) => h.toLowerCase() === "cache-control");
      if ((accountRoute || takesToken) && !ownCacheControl) names.push(["Cache-Control", "Cache-Control-Private"]);
      if (accountRoute && status.startsWith("2")) names.push(["Set-Cookie", "Set-Cookie-Device"]);
      responses[status] = withHeaders(response, names);
    }
    definition.route = { ...route, security, responses };
  }
  for (const [name, header] of Object.entries(RESPONSE_HEADERS)) registry.registerComponent("headers", name, header);
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    registry.registerComponent("securitySchemes", name, scheme);
  }
}

/** The declared tags that operations use, with their descriptions. */
export function usedTags(registry: OpenAPIRegistry) {
  const used = new Set(
    registry.definitions.flatMap((definition) => (definition.type === "route" ? (definition.route.tags ?? []) : [])),
  );
  // A tag missing from TAGS is still listed (without a description, which the contract test refuses).
  return [...Object.keys(TAGS).filter((name) => used.has(name)), ...[...used].filter((name) => !(name in TAGS))].map(
    (name) => ({ name, description: TAGS[name] }),
  );
}
