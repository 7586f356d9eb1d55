import type { RouteHandler } from "@hono/zod-openapi";
import { count, desc, eq } from "drizzle-orm";
import { cursorSessionStub } from "../../cursor/cursor-session";
import { readBuckets } from "../../cursor/stats";
import { getDb } from "../../db/client";
import { cursorSessions } from "../../db/schema";
import type { AppEnv } from "../../env";
import { ApiError } from "../../lib/errors";
import { page } from "../../lib/pagination";
import { fromIso, toIso } from "../../lib/time";
import { authorizeSession, signCursorToken } from "./cursor.auth";
import type * as routes from "./cursor.routes";
import { BATCH_INTERVAL_MS, BATCH_MAX_EVENTS, MAX_BUCKETS, SAMPLE_INTERVAL_MS } from "./cursor.schemas";

type Handler<R extends keyof typeof routes> = RouteHandler<(typeof routes)[R], AppEnv>;

/**
 * Sessions per client address: the Workers Rate Limiting binding (simulated by `wrangler dev` and the test pool).
 * A request without CF-Connecting-IP never reaches production (Cloudflare always sets it); locally it means a
 * test or a tool talking to the Worker directly, which is not limited.
 */
async function limitSessionCreation(env: Env, address: string | undefined): Promise<void> {
  if (!address) return;
  const { success } = await env.CURSOR_SESSION_LIMITER.limit({ key: `cursor-session:${address}` });
  if (!success) {
    throw new ApiError("rate_limited", "Too many cursor sessions from this address; try again in a minute.", {
      headers: { "Retry-After": "60" },
    });
  }
}

export const createSession: Handler<"createSession"> = async (c) => {
  const body = c.req.valid("json");
  await limitSessionCreation(c.env, c.req.header("cf-connecting-ip"));
  const id = crypto.randomUUID();
  const now = Date.now();
  // The object first: a token is only handed out for a session both the object and D1 know.
  await cursorSessionStub(c.env, id).init(id, now);
  await getDb(c.env.DB)
    .insert(cursorSessions)
    .values({
      id,
      label: body.label ?? null,
      viewportWidth: body.viewport.width,
      viewportHeight: body.viewport.height,
      createdAt: now,
    });
  const token = await signCursorToken(c.env, id, now);
  // Relative to this request's own path, so it holds behind any mount point or host.
  const url = new URL(c.req.url);
  const base = url.pathname.replace(/\/+$/, "");
  const wsUrl = new URL(`${base}/${id}/live`, url);
  wsUrl.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  wsUrl.searchParams.set("token", token);
  c.header("Location", `${base}/${id}/stats`);
  return c.json(
    {
      id,
      token,
      server_time: now,
      ws_url: wsUrl.toString(),
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
    if (result.code === "duplicate") {
      throw new ApiError(
        "conflict",
        `Events from seq ${result.first_seq} were already accepted or are already waiting; the session expects ${result.next_seq} next.`,
        { extra: { next_seq: result.next_seq } },
      );
    }
    if (result.code === "gap") {
      throw new ApiError(
        "conflict",
        `The batches before seq ${result.first_seq} did not arrive in time; the session expects ${result.next_seq} next.`,
        { extra: { next_seq: result.next_seq } },
      );
    }
    if (result.code === "too_many_waiting") {
      throw new ApiError("rate_limited", "Too many batches are waiting for earlier ones; send fewer at once.", {
        headers: { "Retry-After": "1" },
      });
    }
    if (result.code === "rate_limited") {
      throw new ApiError("rate_limited", "Too many events per second for this session; slow down.", {
        headers: { "Retry-After": String(result.retry_after) },
      });
    }
    if (result.code === "session_full") {
      throw new ApiError(
        "conflict",
        `This session holds its maximum of ${result.cap} events; start a new session (POST /cursor/sessions).`,
        { extra: { max_events: result.cap } },
      );
    }
    if (result.code === "second_full") {
      throw new ApiError("validation_failed", `At most ${result.cap} events within one second of event time.`, {
        errors: [{ path: `events.${result.index}.t`, message: `more than ${result.cap} events in this second` }],
      });
    }
    if (result.code === "out_of_order") {
      throw new ApiError("validation_failed", "The batch starts before the previous batch's last event.", {
        errors: [
          { path: `events.${result.index}.t`, message: `t must not be before ${result.last_t} (the last event's t)` },
        ],
      });
    }
    if (result.code === "ended") throw new ApiError("conflict", "The session has ended; start a new one.");
    throw new ApiError("not_found", "No cursor session with that id.");
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
  await authorizeSession(c.env, id, c.req.header("authorization"), c.req.valid("query").token);
  // The object answers 101 with the socket, or a problem (404, 409, 429) of its own.
  return (await cursorSessionStub(c.env, id).fetch(c.req.raw)) as never;
};

/** 404 unless the session exists in D1 (reads go to D1, which is where stats and events live). */
async function requireSession(env: Env, id: string) {
  const [session] = await getDb(env.DB).select().from(cursorSessions).where(eq(cursorSessions.id, id)).limit(1);
  if (!session) throw new ApiError("not_found", "No cursor session with that id.");
  return session;
}

export const stats: Handler<"stats"> = async (c) => {
  const { id } = c.req.valid("param");
  const query = c.req.valid("query");
  await authorizeSession(c.env, id, c.req.header("authorization"));
  const session = await requireSession(c.env, id);
  const bucketSeconds = query.bucket;
  // Defaults cover everything stored: events may carry a `t` up to a minute ahead of the server (or earlier than
  // the session's start, if the client's clock base says so).
  const span = await c.env.DB.prepare(
    "SELECT MIN(second) AS first, MAX(second) AS last FROM cursor_seconds WHERE session_id = ?",
  )
    .bind(id)
    .first<{ first: number | null; last: number | null }>();
  const to = query.to ? fromIso(query.to) : Math.max(Date.now(), ((span?.last ?? 0) + 1) * 1000);
  let from = query.from
    ? fromIso(query.from)
    : Math.min(Math.floor(session.createdAt / 1000), span?.first ?? Number.POSITIVE_INFINITY) * 1000;
  if (to <= from) {
    throw new ApiError("bad_request", "`to` must be after `from`.", {
      errors: [{ path: "to", message: "must be after from" }],
    });
  }
  const bucketsBetween = (fromMs: number, toMs: number) =>
    Math.floor((Math.ceil(toMs / 1000) - 1) / bucketSeconds) -
    Math.floor(Math.floor(fromMs / 1000) / bucketSeconds) +
    1;
  if (!query.from && bucketsBetween(from, to) > MAX_BUCKETS) {
    // No explicit start: answer with the latest buckets that fit.
    from = (Math.floor((Math.ceil(to / 1000) - 1) / bucketSeconds) - MAX_BUCKETS + 1) * bucketSeconds * 1000;
  }
  const bucketCount = bucketsBetween(from, to);
  if (bucketCount > MAX_BUCKETS) {
    throw new ApiError(
      "bad_request",
      `That range needs ${bucketCount} buckets; at most ${MAX_BUCKETS}. Use a larger bucket or a shorter range.`,
      { errors: [{ path: "bucket", message: `at most ${MAX_BUCKETS} buckets per request` }] },
    );
  }
  const fromSecond = Math.floor(from / 1000);
  const toSecond = Math.ceil(to / 1000);
  const rows = await readBuckets(c.env.DB, id, bucketSeconds, fromSecond, toSecond);
  const buckets = rows.map((row) => {
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
      from: toIso(from),
      to: toIso(to),
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
  await authorizeSession(c.env, id, c.req.header("authorization"));
  await requireSession(c.env, id);
  // One more row than asked tells whether another page exists without a count(*).
  const { results } = await c.env.DB.prepare(
    "SELECT seq, x, y, t FROM cursor_events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?",
  )
    .bind(id, after, limit + 1)
    .all<{ seq: number; x: number; y: number; t: number }>();
  const items = results.slice(0, limit);
  return c.json({ items, next_after: results.length > limit ? items.at(-1)!.seq : null }, 200);
};

export const endSession: Handler<"endSession"> = async (c) => {
  const { id } = c.req.valid("param");
  await authorizeSession(c.env, id, c.req.header("authorization"));
  const result = await cursorSessionStub(c.env, id).end();
  if (!result.found) throw new ApiError("not_found", "No cursor session with that id.");
  await getDb(c.env.DB).update(cursorSessions).set({ endedAt: result.ended_at }).where(eq(cursorSessions.id, id));
  return c.body(null, 204);
};

export const listSessions: Handler<"listSessions"> = async (c) => {
  const { limit, offset } = c.req.valid("query");
  const db = getDb(c.env.DB);
  const [rows, [total]] = await Promise.all([
    db.select().from(cursorSessions).orderBy(desc(cursorSessions.createdAt)).limit(limit).offset(offset),
    db.select({ n: count() }).from(cursorSessions),
  ]);
  const items = rows.map((s) => ({
    id: s.id,
    label: s.label,
    viewport: { width: s.viewportWidth, height: s.viewportHeight },
    created_at: toIso(s.createdAt),
    ended_at: toIso(s.endedAt),
    event_count: s.eventCount,
    total_distance: s.totalDistance,
    last_event_at: toIso(s.lastEventAt),
  }));
  return c.json(page(items, total?.n ?? 0, { limit, offset }), 200);
};
