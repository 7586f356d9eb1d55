import { createMiddleware } from "hono/factory";
import { BOOKMARK_PATTERN, getDb, RequestD1, serverTiming } from "../db/client";
import type { AppEnv, OptionalCallerEnv } from "../env";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { servingProblems, settings } from "../lib/settings";

/**
 * The page and the docs load only from this origin: scripts from /vendor and /assets, the WebSocket back to 'self'.
 * Inline styles are allowed because uPlot and Swagger UI set style attributes; inline scripts are not.
 */
export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", "data:"],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

/** Six months, subdomains included (Hono's default), sent only on HTTPS responses. */
export const HSTS = "max-age=15552000; includeSubDomains";

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/**
 * The security headers of every response, computed once per isolate: what hono/secure-headers sends with this CSP
 * (COEP off, HSTS added separately), without rebuilding the list on each request.
 */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  [
    "Content-Security-Policy",
    Object.entries(CONTENT_SECURITY_POLICY)
      .map(([directive, sources]) => `${kebab(directive)} ${sources.join(" ")}`)
      .join("; "),
  ],
  ["Cross-Origin-Resource-Policy", "same-origin"],
  ["Cross-Origin-Opener-Policy", "same-origin"],
  ["Origin-Agent-Cluster", "?1"],
  ["Referrer-Policy", "no-referrer"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-DNS-Prefetch-Control", "off"],
  ["X-Download-Options", "noopen"],
  ["X-Frame-Options", "SAMEORIGIN"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["X-XSS-Protection", "0"],
];

/** An X-Request-Id the client sent is kept when it is short and plain (hono/request-id's rule), else a new one. */
const CLIENT_REQUEST_ID = /^[\w\-=]{1,255}$/;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
const NO_D1 = serverTiming({ roundTrips: 0, rowsRead: 0, rowsWritten: 0, ms: 0 });

/**
 * The cross-cutting chain in two middlewares (`edge` outside, `requestContext` inside it; measured piece by piece in
 * bench/figures/edge.mjs to keep the constant route near bare Hono):
 *
 * - the request id (`X-Request-Id`, kept from the client when plain);
 * - the settings guard: a bad setting or an unsafe production secret is a 503 (settings are parsed once per isolate);
 * - the request's services in `c.var` (see RequestVariables in src/env.ts): `d1`, a Sessions API session started
 *   from the client's `X-D1-Bookmark` (reads at least that fresh), `first-unconstrained` for other reads (any
 *   replica), `first-primary` for writes, metered; and `db`, drizzle over it;
 * - after the response: the security headers (HSTS only over HTTPS), `Server-Timing` with the request's D1 cost,
 *   `X-D1-Bookmark` to send back, and one structured log line.
 */
export const edge = createMiddleware<AppEnv & OptionalCallerEnv>(async (c, next) => {
  const started = Date.now();
  const sent = c.req.header("x-request-id");
  const requestId = sent && CLIENT_REQUEST_ID.test(sent) ? sent : crypto.randomUUID();
  c.set("requestId", requestId);
  await next();

  // After the response (onError's included: a throw below this middleware is answered before control comes back),
  // so every header is set once, on the response that leaves.
  const headers = c.res.headers;
  headers.set("X-Request-Id", requestId);
  for (const [name, value] of SECURITY_HEADERS) headers.set(name, value);
  if (c.req.url.startsWith("https:")) headers.set("Strict-Transport-Security", HSTS);
  const d1 = c.get("d1");
  // D1 figures only where the deployment shows them (SERVER_TIMING_D1_DETAIL): rows read can tell data apart. With
  // bad settings (answered 503 by requestContext) the figures are withheld too.
  const d1Detail = servingProblems(c.env).length === 0 && settings(c.env).serverTimingD1Detail;
  const used = d1 && d1.cost.roundTrips > 0 ? d1.cost : undefined;
  headers.set("Server-Timing", d1Detail ? (used ? serverTiming(used) : NO_D1) : `d1;dur=${used?.ms ?? 0}`);
  const bookmark = d1?.getBookmark() ?? c.req.header("x-d1-bookmark");
  if (bookmark) headers.set("X-D1-Bookmark", bookmark);
  const status = c.res.status;
  log(status >= 500 ? "error" : "info", "request", {
    request_id: requestId,
    method: c.req.method,
    path: c.req.path,
    status,
    duration_ms: Date.now() - started,
    user_id: c.get("caller")?.id,
    d1: d1 && d1.cost.roundTrips > 0 ? d1.cost : undefined,
  });
});

/**
 * Inside `edge` (so its refusals still get the headers and the log line): the settings guard, then the
 * request's services, set once here and read by name (`c.var.db`, `c.var.d1`).
 */
export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const problems = servingProblems(c.env);
  if (problems.length > 0) {
    log("error", "refusing to serve: invalid settings", { problems, request_id: c.get("requestId") });
    throw new ApiError(
      "service_unavailable",
      "The service is not configured; the operator has been told why in the logs.",
    );
  }
  const bookmark = c.req.header("x-d1-bookmark");
  if (bookmark !== undefined && !BOOKMARK_PATTERN.test(bookmark)) {
    throw new ApiError("bad_request", "X-D1-Bookmark is not a bookmark this service gave out.", {
      errors: [{ path: "X-D1-Bookmark", message: "send back the X-D1-Bookmark of an earlier response unchanged" }],
    });
  }
  // The session itself starts on the first query: a route that never touches D1 (the constant route, a cache hit)
  // pays two small objects for it.
  const d1 = new RequestD1(
    c.env.DB,
    bookmark ?? (SAFE_METHODS.has(c.req.method) ? "first-unconstrained" : "first-primary"),
  );
  c.set("d1", d1);
  c.set("db", getDb(d1));
  await next();
});
