import { swaggerUI } from "@hono/swagger-ui";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import pkg from "../package.json";
import type { AppEnv } from "./env";
import { consoleRouteOf } from "./lib/console-routes";
import { createRouter } from "./lib/create-router";
import { clientCausedDatabaseError, isDatabaseError } from "./lib/db-errors";
import { ApiError, codeForStatus, problemResponse } from "./lib/errors";
import { errorFields, log } from "./lib/log";
import { API_PREFIX, completeContract, usedTags } from "./lib/openapi";
import { settings } from "./lib/settings";
import { clientLimit } from "./middleware/client-limit";
import { edge, requestContext } from "./middleware/edge";
import { authRouter } from "./routes/auth/auth.index";
import { cursorRouter } from "./routes/cursor/cursor.index";
import { healthRouter } from "./routes/health/health.index";
import { notificationsRouter } from "./routes/notifications/notifications.index";
import { outboxRouter } from "./routes/outbox/outbox.index";
import { productsRouter } from "./routes/products/products.index";
import { reportsRouter } from "./routes/reports/reports.index";
import { tasksRouter } from "./routes/tasks/tasks.index";
import { usersRouter } from "./routes/users/users.index";

export const MAX_BODY_BYTES = 1024 * 1024;

type Router = OpenAPIHono<AppEnv>;

/** Resource routers mounted under API_PREFIX, in the order they appear in the docs. */
const apiRouters: Router[] = [
  // resource routers: one line each, e.g. authRouter, usersRouter, tasksRouter, ...
  authRouter,
  usersRouter,
  tasksRouter,
  notificationsRouter,
  outboxRouter,
  productsRouter,
  reportsRouter,
  cursorRouter,
];

export function createApp() {
  const app = createRouter();

  // Request id, configuration guard, the request's services (c.var), security headers, Server-Timing, the log line.
  app.use("*", edge, requestContext);
  app.use(
    "/api/*",
    cors({
      origin: (origin, c) => (allowedOrigins(c.env).includes(origin) ? origin : null),
      allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      allowHeaders: ["Authorization", "Content-Type", "If-None-Match", "X-D1-Bookmark"],
      exposeHeaders: [
        "X-Request-Id",
        "ETag",
        "Retry-After",
        "Location",
        "Server-Timing",
        "X-D1-Bookmark",
        "X-Cache",
        // CSV exports: the file name and the row count.
        "Content-Disposition",
        "X-Total-Count",
      ],
      maxAge: 600,
    }),
  );
  app.use("/api/*", clientLimit);
  app.use(
    "/api/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new ApiError("payload_too_large", `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
      },
    }),
  );
  app.use(
    "*",
    methodNotAllowed({
      app,
      onMethodNotAllowed: (_c, methods) => {
        throw new ApiError("method_not_allowed", `Allowed methods: ${methods.join(", ")}.`, {
          headers: { Allow: methods.join(", ") },
        });
      },
    }),
  );

  app.route("/", healthRouter);
  for (const router of apiRouters) app.route(API_PREFIX, router);

  // Headers, default problems, security and tags that every operation shares: said once, for routes added later too.
  completeContract(app.openAPIRegistry, API_PREFIX);
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "edge-backoffice API",
      version: pkg.version,
      description:
        "Accounts, task board, product catalog and live cursor analytics on Cloudflare Workers. Errors are RFC 9457 problem+json.",
    },
    servers: [{ url: "/", description: "This deployment" }],
    tags: usedTags(app.openAPIRegistry),
  });
  app.get(
    "/docs",
    swaggerUI({
      url: "/openapi.json",
      baseUrl: "/vendor",
      title: "edge-backoffice API",
      // Swagger UI is vendored from npm (no CDN) and started by a same-origin script, so the CSP needs no inline script.
      manuallySwaggerUIHtml: (asset) => `
        <div id="swagger-ui"></div>
        ${asset.css.map((href) => `<link rel="stylesheet" href="${href}" />`).join("")}
        ${asset.js.map((src) => `<script src="${src}"></script>`).join("")}
        <script src="/assets/swagger-init.js"></script>`,
    }),
  );

  app.notFound(async (c) => {
    // No route: the console's page for a console route, else a static file from public/. wrangler.toml runs the
    // Worker first for every path, so the console, the capture page and their files get the same headers as the API
    // from the middleware above (request id, CSP, HSTS only over HTTPS).
    if ((c.req.method === "GET" || c.req.method === "HEAD") && !c.req.path.startsWith(`${API_PREFIX}/`)) {
      const asset = await staticAsset(c.env.ASSETS, c.req.raw, c.req.path);
      if (asset) {
        asset.headers.set("X-Request-Id", c.get("requestId"));
        return asset;
      }
    }
    const response = problemResponse("not_found", `No route for ${c.req.method} ${c.req.path}.`, {
      instance: c.req.path,
      requestId: c.get("requestId"),
    });
    // A raw Response does not get the headers set with c.header() before it (the request id); a 405 built from this
    // 404 would lack it too.
    response.headers.set("X-Request-Id", c.get("requestId"));
    return response;
  });

  app.onError((thrown, c) => {
    // drizzle wraps whatever a query throws ("Failed query"); a refusal raised inside the request's D1 (the caller
    // check that rode along with a read) is still that refusal.
    const error = thrown instanceof Error && thrown.cause instanceof ApiError ? thrown.cause : thrown;
    const ctx = { instance: c.req.path, requestId: c.get("requestId") };
    if (error instanceof ApiError) {
      const response = problemResponse(error.code, error.detail, ctx, error.options);
      return mergeHeaders(response, c.res.headers);
    }
    if (error instanceof HTTPException) {
      // Thrown by Hono itself: malformed JSON (400), content type (415) and the like.
      const code = /json/i.test(error.message) && error.status === 400 ? "malformed_json" : codeForStatus(error.status);
      return mergeHeaders(problemResponse(code, error.message, ctx), c.res.headers);
    }
    const logError = (message: string) =>
      log("error", message, {
        request_id: ctx.requestId,
        method: c.req.method,
        path: c.req.path,
        ...errorFields(error),
      });
    const clientCaused = clientCausedDatabaseError(error);
    if (clientCaused) {
      // The input made D1 refuse (a pattern too complex, a value too big): the client's error, logged as a warning.
      log("warn", "database refused the request's input", {
        request_id: ctx.requestId,
        method: c.req.method,
        path: c.req.path,
        code: clientCaused.code,
        error: error instanceof Error ? error.message : String(error),
      });
      return mergeHeaders(problemResponse(clientCaused.code, clientCaused.detail, ctx), c.res.headers);
    }
    if (isDatabaseError(error)) {
      // D1 failing (overloaded, reset, unreachable) is the service being unavailable, not a bug to show the client:
      // the details go to the log only.
      logError("database error");
      return mergeHeaders(
        problemResponse("service_unavailable", "The database is unavailable right now; try again shortly.", ctx, {
          headers: { "Retry-After": "1" },
        }),
        c.res.headers,
      );
    }
    logError("unhandled error");
    return mergeHeaders(
      problemResponse("internal", "Something went wrong on our side; quote the request id when reporting it.", ctx),
      c.res.headers,
    );
  });

  return app;
}

/**
 * What public/ answers for a GET or HEAD no route took, or null for a 404 problem:
 * - a console route (src/lib/console-routes.ts): the console's index.html, revalidated on every load so a deploy is
 *   seen at once; the console's own router then draws the page;
 * - the console's hashed build files (/console/assets/…): cached for a year, since a new build has new names; the
 *   rest of public/console/ (its index.html by name, the build manifest) is not served on its own;
 * - any other file in public/ as it is (the capture page at /capture, vendored uPlot and Swagger UI, the favicon).
 */
async function staticAsset(assets: Fetcher, request: Request, path: string): Promise<Response | null> {
  const consolePage = consoleRouteOf(path) !== null;
  const buildFolder = path === "/console" || path.startsWith("/console/");
  if (!consolePage && buildFolder && !path.startsWith("/console/assets/")) return null;
  const asset = await assets.fetch(consolePage ? new Request(new URL("/console/", request.url), request) : request);
  if (asset.status === 404) {
    await asset.body?.cancel();
    return null;
  }
  const response = new Response(asset.body, asset); // the binding's headers are immutable
  if (consolePage) response.headers.set("Cache-Control", "no-cache");
  else if (path.startsWith("/console/assets/") && asset.ok) {
    response.headers.set("Cache-Control", "public, max-age=31536000, immutable");
  }
  return response;
}

/** Keep headers set by earlier middleware (request id, security headers, CORS) on error responses. */
function mergeHeaders(response: Response, earlier: Headers): Response {
  for (const [name, value] of earlier) {
    if (name !== "content-type" && name !== "content-length" && !response.headers.has(name)) {
      response.headers.set(name, value);
    }
  }
  return response;
}

function allowedOrigins(env: Env): readonly string[] {
  return settings(env).corsOrigins;
}

export type App = ReturnType<typeof createApp>;
