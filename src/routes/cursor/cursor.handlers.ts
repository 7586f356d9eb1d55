import { count, desc, eq, sql } from "drizzle-orm";
import type { Context } from "hono";
import { clientKey } from "../../auth/client";
import { authorizeSessionRequest, signCursorToken } from "../../auth/session-tokens";
import { archiveDayPrefix, archiveKey } from "../../cursor/archive";
import { cursorSessionStub } from "../../cursor/cursor-session";
import { refusalProblem } from "../../cursor/refusal";
import { WRITER_HEADER } from "../../cursor/socket-gateway";
import type { Db } from "../../db/client";
import { cursorSessions } from "../../db/schema";
import type { AppEnv, Handler as RouteHandler } from "../../env";
import { ApiError } from "../../lib/errors";
import { page } from "../../lib/pagination";
import { publicWebSocketUrl } from "../../lib/public-origin";
import { fromIso, toIso, utcDay } from "../../lib/time";
import { insertSessionWithinBudget } from "./cursor.queries";
import type * as routes from "./cursor.routes";
import { BATCH_INTERVAL_MS, BATCH_MAX_EVENTS, SAMPLE_INTERVAL_MS } from "./cursor.schemas";

type Handler<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R]>;

/**
 * Sessions per client: the Workers Rate Limiting binding (simulated by `wrangler dev` and the test pool), keyed like
 * every other per-client limit (`clientKey`: the address behind Cloudflare, one key per local client under
 * `wrangler dev`, which reports every client as 127.0.0.1). A request without CF-Connecting-IP never reaches
 * production (Cloudflare always sets it); locally it means a test or a tool calling the Worker directly, which is
 * not limited.
 */
async function limitSessionCreation(c: Context<AppEnv>): Promise<void> {
  if (!c.req.header("cf-connecting-ip")) return;
  const { success } = await c.env.CURSOR_SESSION_LIMITER.limit({ key: `cursor-session:${await clientKey(c)}` });
  if (!success) {
    throw new ApiError("rate_limited", "Too many cursor sessions from this address; try again in a minute.", {
      headers: { "Retry-After": "60" },
    });
  }
}

export const createSession: Handler<"createSession"> = async (c) => {
  const body = c.req.valid("json");
  await limitSessionCreation(c);
  const id = crypto.randomUUID();
  const now = Date.now();
  // D1 first: the row is what retention finds, so no object is ever made that retention cannot remove.
  const values = {
    id,
    label: body.label ?? null,
    viewportWidth: body.viewport.width,
    viewportHeight: body.viewport.height,
    createdAt: now,
  };
  if (!(await insertSessionWithinBudget(c.var.db, values))) {
    throw new ApiError("rate_limited", "Too many cursor sessions are being started; try again later.", {
      headers: { "Retry-After": "60" },
    });
  }
  // A token is only handed out for a session both D1 and the object know.
  await cursorSessionStub(c.env, id).init(id, now);
  const token = await signCursorToken(c.env, id, now);
  // This route's own path; the origin comes from PUBLIC_ORIGIN (or none: relative), never from the Host header.
  const base = new URL(c.req.url).pathname.replace(/\/+$/, "");
  const wsUrl = publicWebSocketUrl(c.env, `${base}/${id}/live?token=${encodeURIComponent(token)}`);
  c.header("Location", `${base}/${id}/stats`);
  return c.json(
    {
      id,
      token,
      server_time: now,
      ws_url: wsUrl,
      sample_interval_ms: SAMPLE_INTERVAL_MS,
      batch_interval_ms: BATCH_INTERVAL_MS,
      batch_max_events: BATCH_MAX_EVENTS,
    },
    201,
  );
};

export const postEvents: Handler<"postEvents"> = async (c) => {
  // The session token was checked by requireSessionToken before the body was validated.
  const { id } = c.req.valid("param");
  const { events, first_seq: firstSeq } = c.req.valid("json");
  const result = await cursorSessionStub(c.env, id).ingest(events, Date.now(), firstSeq);
  if (!result.ok) {
    const problem = refusalProblem(result);
    throw new ApiError(problem.code, problem.detail, problem.options);
  }
  const { ok: _ok, ...accepted } = result;
  return c.json(accepted, 202);
};

export const live: Handler<"live"> = async (c) => {
  const { id } = c.req.valid("param");
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "This is a WebSocket endpoint: connect with 'Upgrade: websocket'.", {
      headers: { Upgrade: "websocket" },
    });
  }
  const caller = await authorizeSessionRequest(c, id, { queryToken: c.req.valid("query").token, websocket: true });
  // The session token's holder may send batches over its socket; an admin only watches. The header is set here
  // (any copy the client sent is replaced), and only the Worker reaches the object.
  const headers = new Headers(c.req.raw.headers);
  headers.set(WRITER_HEADER, caller.kind === "session" ? "1" : "0");
  // The object answers 101 with the socket, or a problem (404, 409, 429) of its own.
  return (await cursorSessionStub(c.env, id).fetch(new Request(c.req.raw.url, { headers }))) as never;
};

export const stats: Handler<"stats"> = async (c) => {
  const { id } = c.req.valid("param");
  const query = c.req.valid("query");
  await authorizeSessionRequest(c, id);
  const bucketSeconds = query.bucket;
  // The session's object holds its events and sums them (no D1 read).
  const answer = await cursorSessionStub(c.env, id).stats(
    bucketSeconds,
    query.from ? fromIso(query.from) : null,
    query.to ? fromIso(query.to) : null,
  );
  if (!answer.ok) {
    if (answer.code === "not_found") throw new ApiError("not_found", "No cursor session with that id.");
    throw new ApiError("bad_request", answer.detail, { errors: [{ path: answer.path, message: answer.message }] });
  }
  const buckets = answer.buckets.map((row) => {
    const start = row.bucket_start * 1000;
    return {
      start: toIso(start),
      end: toIso(start + bucketSeconds * 1000),
      distance: row.distance,
      avg_speed: row.distance / bucketSeconds,
      peak_speed: row.peak_speed,
      event_count: row.event_count,
      start_point: { x: row.start_x, y: row.start_y },
      end_point: { x: row.end_x, y: row.end_y },
    };
  });
  return c.json(
    {
      session_id: id,
      bucket_seconds: bucketSeconds,
      from: toIso(answer.from),
      to: toIso(answer.to),
      buckets,
      totals: {
        distance: buckets.reduce((sum, b) => sum + b.distance, 0),
        event_count: buckets.reduce((sum, b) => sum + b.event_count, 0),
      },
    },
    200,
  );
};

export const listEvents: Handler<"listEvents"> = async (c) => {
  const { id } = c.req.valid("param");
  const { after, limit } = c.req.valid("query");
  await authorizeSessionRequest(c, id);
  // The object keeps the raw events packed, one row per second, and pages them by seq.
  const page = await cursorSessionStub(c.env, id).events(after, limit);
  if (!page) throw new ApiError("not_found", "No cursor session with that id.");
  return c.json(page, 200);
};

export const endSession: Handler<"endSession"> = async (c) => {
  const { id } = c.req.valid("param");
  await authorizeSessionRequest(c, id);
  const result = await cursorSessionStub(c.env, id).end();
  if (!result.found) throw new ApiError("not_found", "No cursor session with that id.");
  await c.var.db.update(cursorSessions).set({ endedAt: result.ended_at }).where(eq(cursorSessions.id, id));
  return c.body(null, 204);
};

/**
 * Sessions with their totals: the session row's (written at the end) or, while it runs, its newest rollup's (one
 * index lookup each).
 */
function sessionsQuery(db: Db) {
  const newest = (column: string) =>
    sql.raw(
      `(SELECT ${column} FROM cursor_rollups r WHERE r.session_id = cursor_sessions.id ORDER BY r.bucket_start DESC LIMIT 1)`,
    );
  return db
    .select({
      session: cursorSessions,
      lastSeq: sql<number | null>`${newest("last_seq")}`,
      rollupDistance: sql<number | null>`${newest("total_distance")}`,
      lastT: sql<number | null>`${newest("last_t")}`,
    })
    .from(cursorSessions);
}

type SessionRow = Awaited<ReturnType<typeof sessionsQuery>>[number];

function toSessionItem({ session: s, lastSeq, rollupDistance, lastT }: SessionRow) {
  const live = lastSeq !== null && lastSeq + 1 > s.eventCount;
  return {
    id: s.id,
    label: s.label,
    viewport: { width: s.viewportWidth, height: s.viewportHeight },
    created_at: toIso(s.createdAt),
    ended_at: toIso(s.endedAt),
    event_count: live ? lastSeq + 1 : s.eventCount,
    total_distance: live ? (rollupDistance ?? s.totalDistance) : s.totalDistance,
    last_event_at: toIso(live ? lastT : s.lastEventAt),
  };
}

export const listSessions: Handler<"listSessions"> = async (c) => {
  const { limit, offset } = c.req.valid("query");
  const [rows, [total]] = await Promise.all([
    sessionsQuery(c.var.db).orderBy(desc(cursorSessions.createdAt)).limit(limit).offset(offset),
    c.var.db.select({ n: count() }).from(cursorSessions),
  ]);
  return c.json(page(rows.map(toSessionItem), total?.n ?? 0, { limit, offset }), 200);
};

export const getSession: Handler<"getSession"> = async (c) => {
  const { id } = c.req.valid("param");
  const [row] = await sessionsQuery(c.var.db).where(eq(cursorSessions.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "No cursor session with that id.");
  return c.json(toSessionItem(row), 200);
};

export const getArchive: Handler<"getArchive"> = async (c) => {
  const { id } = c.req.valid("param");
  const [session] = await c.var.db
    .select({ createdAt: cursorSessions.createdAt })
    .from(cursorSessions)
    .where(eq(cursorSessions.id, id))
    .limit(1);
  if (!session) throw new ApiError("not_found", "No cursor session with that id.");
  const object = await c.env.ARCHIVE.get(archiveKey(id, session.createdAt));
  if (!object)
    throw new ApiError("not_found", "This session has no archive (yet): it is written when the session ends.");
  // The stored bytes as they are: gzip NDJSON, one event a line (see docs/cursor.md).
  return new Response(object.body, {
    status: 200,
    headers: {
      "Content-Type": "application/gzip",
      "Content-Length": String(object.size),
      "Content-Disposition": `attachment; filename="${id}.ndjson.gz"`,
      ETag: object.httpEtag,
    },
  }) as never;
};

export const listArchives: Handler<"listArchives"> = async (c) => {
  const { day, cursor, limit } = c.req.valid("query");
  const listed = await c.env.ARCHIVE.list({
    prefix: archiveDayPrefix(day ?? utcDay(Date.now())),
    cursor,
    limit,
    include: ["customMetadata"],
  });
  const items = listed.objects.map((o) => ({
    key: o.key,
    session_id: o.customMetadata?.session_id ?? o.key.split("/").at(-1)!.replace(".ndjson.gz", ""),
    size: o.size,
    uploaded: o.uploaded.toISOString(),
    event_count: Number(o.customMetadata?.event_count ?? 0),
  }));
  return c.json({ items, cursor: listed.truncated ? listed.cursor : null }, 200);
};
