import { createRoute } from "@hono/zod-openapi";
import { requireCaller, requireRole } from "../../auth/require-auth";
import { requireSessionToken } from "../../auth/session-tokens";
import { EventsBatchSchema, ServerFrameSchema } from "../../cursor/protocol";
import {
  BODY_ERRORS,
  bearerSecurity,
  errorResponses,
  jsonBody,
  jsonContent,
  sessionOrBearerSecurity,
  sessionSecurity,
  UuidParam,
} from "../../lib/openapi";
import { PaginationQuery } from "../../lib/pagination";
import {
  AcceptedSchema,
  ArchiveListQuery,
  ArchiveListSchema,
  CreatedSessionSchema,
  CreateSessionSchema,
  EventsPageSchema,
  EventsQuery,
  LiveQuery,
  SessionPageSchema,
  SessionSchema,
  StatsQuery,
  StatsSchema,
} from "./cursor.schemas";

const tags = ["cursor"];
const SESSION_AUTH = "The session's own token (from POST /cursor/sessions) or an admin's access token.";

export const createSession = createRoute({
  operationId: "createCursorSession",
  method: "post",
  path: "/cursor/sessions",
  tags,
  summary: "Start a cursor session",
  description:
    "Anyone may start one (the page at / does on load). Returns the session token that every other route of this " +
    "session needs, the WebSocket URL with the token already in it, the server clock to base event times on, and " +
    "the sampling hints the page uses. At most 20 a minute per client, and 200 an hour from all clients together " +
    "(429 with Retry-After).",
  request: { body: jsonBody(CreateSessionSchema) },
  responses: {
    201: jsonContent(CreatedSessionSchema, "The session; `Location` points at its stats"),
    ...errorResponses(...BODY_ERRORS),
  },
});

export const postEvents = createRoute({
  operationId: "postCursorEvents",
  method: "post",
  path: "/cursor/sessions/{id}/events",
  tags,
  summary: "Post a batch of cursor events",
  description:
    "1 to 1,000 events `{ x, y, t }`, validated all-or-nothing: the first offending event is named in the " +
    "problem's `errors` path (`events.3.t`). Events must be in time order, not before the previous batch's last " +
    "`t`, and within the session's life: not before its creation less 60 s, not after the server clock plus 60 s " +
    "(422). The session's Durable Object continues the path from the previous batch, stores the events, pushes a " +
    "frame to every live viewer and sends 10-second rollups to D1 every CURSOR_FLUSH_SECONDS while it moves. Limits " +
    "per session: CURSOR_MAX_EVENTS_PER_SECOND (token bucket, 429 with Retry-After), " +
    "CURSOR_MAX_EVENTS_PER_EVENT_SECOND (422), CURSOR_MAX_EVENTS_PER_SESSION events or 16 bytes each of storage " +
    "(409: start a new session); a refused batch stores nothing. The page sends the same batches over its " +
    "WebSocket. Session token only.",
  security: sessionSecurity,
  middleware: [requireSessionToken] as const,
  request: { params: UuidParam("id"), body: jsonBody(EventsBatchSchema) },
  responses: {
    202: jsonContent(AcceptedSchema, "Accepted: live totals after this batch"),
    ...errorResponses(...BODY_ERRORS, 401, 403, 404, 409, 429),
  },
});

export const live = createRoute({
  operationId: "watchCursorSession",
  method: "get",
  path: "/cursor/sessions/{id}/live",
  tags,
  summary: "Live frames over a WebSocket",
  description:
    "Upgrades to a WebSocket (hibernating Durable Object). The first message is a `hello` frame with the totals " +
    "so far, then a `frame` after every accepted batch, and `ended` before the server closes the socket. Send the " +
    `text \`ping\` to get \`pong\` (answered without waking the object), or \`{"type":"hello"}\` for the totals ` +
    `again. ${SESSION_AUTH} Browsers pass the token as ` +
    "`?token=` (already in `ws_url`). Messages are closed schemas like REST bodies (refused with a `nack` carrying " +
    "the same status and errors); over-long messages close the socket (1009), too many refused or other messages " +
    "(1008).",
  security: sessionOrBearerSecurity,
  request: { params: UuidParam("id"), query: LiveQuery },
  responses: {
    101: {
      description: "Switching Protocols: JSON text frames follow, each one of the CursorFrame shapes",
      content: { "application/json": { schema: ServerFrameSchema } },
    },
    ...errorResponses(400, 401, 403, 404, 409, 426, 429),
  },
});

export const stats = createRoute({
  operationId: "getCursorStats",
  method: "get",
  path: "/cursor/sessions/{id}/stats",
  tags,
  summary: "Re-aggregated statistics",
  description:
    "Sums the session's events (kept by its Durable Object) into buckets of any size (`1s` to `24h`, aligned to the epoch): " +
    "distance, average speed (distance / bucket seconds), peak speed, first and last point and event count. " +
    "At most 1,000 buckets per request; without `from`, the latest 1,000. The default range covers every stored " +
    `second. As fresh as the last accepted batch. ${SESSION_AUTH}`,
  security: sessionOrBearerSecurity,
  request: { params: UuidParam("id"), query: StatsQuery },
  responses: {
    200: jsonContent(StatsSchema, "Buckets that saw events, oldest first"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const listEvents = createRoute({
  operationId: "listCursorEvents",
  method: "get",
  path: "/cursor/sessions/{id}/events",
  tags,
  summary: "Stored raw events",
  description: `Keyset pagination by sequence number: pass \`next_after\` back as \`after\`. Served by the session's Durable Object, which keeps every accepted event (packed) until the session passes CURSOR_RETENTION_DAYS; every event once, in seq order. ${SESSION_AUTH}`,
  security: sessionOrBearerSecurity,
  request: { params: UuidParam("id"), query: EventsQuery },
  responses: {
    200: jsonContent(EventsPageSchema, "Events in sequence order"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const endSession = createRoute({
  operationId: "endCursorSession",
  method: "delete",
  path: "/cursor/sessions/{id}",
  tags,
  summary: "End a session",
  description: `Ends the session: live viewers get an \`ended\` frame and their sockets are closed; further events are refused with 409. Stored data is kept. Idempotent. ${SESSION_AUTH}`,
  security: sessionOrBearerSecurity,
  request: { params: UuidParam("id") },
  responses: {
    204: { description: "Ended" },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const listSessions = createRoute({
  operationId: "listCursorSessions",
  method: "get",
  path: "/cursor/sessions",
  tags,
  summary: "List cursor sessions (admin)",
  description: "Newest first, with the totals stored so far.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")],
  request: { query: PaginationQuery },
  responses: {
    200: jsonContent(SessionPageSchema, "A page of sessions"),
    ...errorResponses(400, 401, 403),
  },
});

export const getSession = createRoute({
  operationId: "getCursorSession",
  method: "get",
  path: "/cursor/sessions/{id}",
  tags,
  summary: "One cursor session (admin)",
  description:
    "The session as the list shows it: its label, viewport, start, end (null while it runs) and totals stored so " +
    "far. For the live frames, open its WebSocket.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")],
  request: { params: UuidParam("id") },
  responses: {
    200: jsonContent(SessionSchema, "The session"),
    ...errorResponses(400, 401, 403, 404),
  },
});

export const getArchive = createRoute({
  operationId: "getCursorArchive",
  method: "get",
  path: "/cursor/sessions/{id}/archive",
  tags,
  summary: "Download a session's archive (admin)",
  description:
    "The raw events of an ended session as written to R2: gzip-compressed NDJSON, one `{seq,x,y,t}` per line in seq " +
    "order. 404 until the session has ended and its archive is written.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")],
  request: { params: UuidParam("id") },
  responses: {
    200: {
      description: "gzip NDJSON",
      headers: {
        "Content-Disposition": {
          description: '`attachment; filename="<session>.ndjson.gz"`',
          required: true,
          schema: { type: "string" },
        },
        ETag: { description: "The R2 object's ETag.", required: true, schema: { type: "string" } },
      },
      content: { "application/gzip": { schema: { type: "string", format: "binary" } } },
    },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const listArchives = createRoute({
  operationId: "listCursorArchives",
  method: "get",
  path: "/cursor/archives",
  tags,
  summary: "List session archives of a day (admin)",
  description: "The R2 objects under `cursor/YYYY/MM/DD/` for the sessions started that day (UTC), paged by cursor.",
  security: bearerSecurity,
  middleware: [requireCaller, requireRole("admin")],
  request: { query: ArchiveListQuery },
  responses: {
    200: jsonContent(ArchiveListSchema, "A page of archives"),
    ...errorResponses(400, 401, 403),
  },
});
