import { DurableObject } from "cloudflare:workers";
import { problemResponse } from "../lib/errors";
import { errorFields, log } from "../lib/log";
import { advance, type KinematicState, type Point, type SecondAggregate } from "./kinematics";
import { type CursorEventsMessage, type DataFrame, type HelloFrame, packMessages, type ServerFrame } from "./protocol";

/** Viewers per session; one more is refused with a 429 rather than slowing every broadcast down. */
export const MAX_VIEWERS = 32;
/** Viewers only ever send pings (answered by the runtime without waking us) or the occasional "hello". */
export const MAX_VIEWER_MESSAGE_BYTES = 512;
export const MAX_VIEWER_MESSAGES = 20;
export const VIEWER_WINDOW_MS = 10_000;
/** Queue sendBatch takes at most 100 messages and 256 KB; messages are at most 48 KB each. */
const SEND_BATCH_BYTES = 200_000;
const FLUSH_RETRY_MS = 2_000;
/** Set with every batch: if the flush after it never completes, this alarm sends the outbox. */
const SAFETY_ALARM_MS = 5_000;

export type IngestResult =
  | {
      ok: true;
      accepted: number;
      first_seq: number;
      last_seq: number;
      distance: number;
      speed: number;
      total_distance: number;
      event_count: number;
      last_t: number;
    }
  | { ok: false; code: "not_found" | "ended" }
  | { ok: false; code: "out_of_order"; index: number; last_t: number };

export type SessionSnapshot = {
  session_id: string;
  created_at: number;
  ended_at: number | null;
  total_distance: number;
  event_count: number;
  next_seq: number;
  last: Point | null;
  open: SecondAggregate | null;
  viewers: number;
  pending_messages: number;
};

type Attachment = { connectedAt: number; windowStart: number; messages: number };

type SessionRow = {
  session_id: string;
  created_at: number;
  ended_at: number | null;
  last_x: number | null;
  last_y: number | null;
  last_t: number | null;
  total_distance: number;
  event_count: number;
  next_seq: number;
  open_second: string | null;
};

/** The stub for a session id; one object per browser session. */
export function cursorSessionStub(env: Env, sessionId: string): DurableObjectStub<CursorSession> {
  const namespace = env.CURSOR_SESSION as unknown as DurableObjectNamespace<CursorSession>;
  return namespace.get(namespace.idFromName(sessionId));
}

/**
 * One per browser session of the cursor page. Everything that must survive eviction lives in the object's SQLite:
 * the last point, the running totals, the sequence counter, the still-open second, and an outbox of queue messages
 * not yet handed over. A batch is applied, and its messages written to the outbox, in one synchronous transaction;
 * the messages are then sent and deleted, and an alarm retries whatever a failed send left behind. So an eviction or
 * a queue hiccup loses nothing, and the consumer's keys ((session_id, seq), last_seq) make a resend harmless.
 *
 * WebSockets use the hibernation API: the object can be evicted while viewers stay connected, pings are answered by
 * the runtime (setWebSocketAutoResponse) without waking it, and per-socket state rides on serializeAttachment.
 */
export class CursorSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private flushing: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS session (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        session_id TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        ended_at INTEGER,
        last_x REAL, last_y REAL, last_t INTEGER,
        total_distance REAL NOT NULL DEFAULT 0,
        event_count INTEGER NOT NULL DEFAULT 0,
        next_seq INTEGER NOT NULL DEFAULT 0,
        open_second TEXT
      );
      CREATE TABLE IF NOT EXISTS outbox (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );`);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Called once when the session is created; idempotent. */
  async init(sessionId: string, createdAt: number): Promise<void> {
    this.sql.exec("INSERT OR IGNORE INTO session (id, session_id, created_at) VALUES (1, ?, ?)", sessionId, createdAt);
  }

  /** Applies one validated batch (time-ordered, 1..1000 events): totals, frames to every viewer, queue messages. */
  async ingest(events: Point[], now: number = Date.now()): Promise<IngestResult> {
    const row = this.row();
    if (!row) return { ok: false, code: "not_found" };
    if (row.ended_at !== null) return { ok: false, code: "ended" };
    if (row.last_t !== null && events[0]!.t < row.last_t) {
      return { ok: false, code: "out_of_order", index: 0, last_t: row.last_t };
    }

    const result = advance(stateOf(row), events);
    const { state } = result;
    const messages = packMessages(row.session_id, result.events, result.seconds, {
      event_count: state.eventCount,
      total_distance: state.totalDistance,
      last_event_at: state.last!.t,
    });
    // Synchronous: no other request can interleave between the check above and this write.
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE session SET last_x = ?, last_y = ?, last_t = ?, total_distance = ?, event_count = ?, next_seq = ?,
           open_second = ? WHERE id = 1`,
        state.last!.x,
        state.last!.y,
        state.last!.t,
        state.totalDistance,
        state.eventCount,
        state.nextSeq,
        state.open ? JSON.stringify(state.open) : null,
      );
      for (const message of messages) {
        this.sql.exec(
          "INSERT OR REPLACE INTO outbox (id, body, created_at) VALUES (?, ?, ?)",
          message.id,
          JSON.stringify(message),
          now,
        );
      }
    });
    void this.ctx.storage.setAlarm(now + SAFETY_ALARM_MS);

    const frame: DataFrame = {
      type: "frame",
      t: state.last!.t,
      speed: result.speed,
      distance: result.distance,
      total_distance: state.totalDistance,
      events: events.length,
      event_count: state.eventCount,
      window_ms: result.windowMs,
    };
    this.broadcast(frame);
    // The answer does not wait for the queue: the messages are already durable in the outbox, and the alarm set
    // above hands them over should this flush not finish (eviction, a failed send).
    void this.flush();

    return {
      ok: true,
      accepted: events.length,
      first_seq: result.events[0]!.seq,
      last_seq: result.events.at(-1)!.seq,
      distance: result.distance,
      speed: result.speed,
      total_distance: state.totalDistance,
      event_count: state.eventCount,
      last_t: state.last!.t,
    };
  }

  /** Ends the session: tells every viewer, closes the sockets, refuses further events. */
  async end(now: number = Date.now()): Promise<{ found: boolean; ended_at: number | null }> {
    const row = this.row();
    if (!row) return { found: false, ended_at: null };
    const endedAt = row.ended_at ?? now;
    if (row.ended_at === null) this.sql.exec("UPDATE session SET ended_at = ? WHERE id = 1", endedAt);
    this.broadcast({ type: "ended", t: endedAt });
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "session ended");
      } catch {
        // already closing
      }
    }
    await this.flush();
    return { found: true, ended_at: endedAt };
  }

  async snapshot(): Promise<SessionSnapshot | null> {
    const row = this.row();
    if (!row) return null;
    const state = stateOf(row);
    const pending = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
    return {
      session_id: row.session_id,
      created_at: row.created_at,
      ended_at: row.ended_at,
      total_distance: row.total_distance,
      event_count: row.event_count,
      next_seq: row.next_seq,
      last: state.last,
      open: state.open,
      viewers: this.ctx.getWebSockets().length,
      pending_messages: pending,
    };
  }

  /** The WebSocket upgrade; the Worker has already checked the token. */
  override async fetch(request: Request): Promise<Response> {
    const ctx = { instance: new URL(request.url).pathname };
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return problemResponse("upgrade_required", "Connect with 'Upgrade: websocket'.", ctx, {
        headers: { Upgrade: "websocket" },
      });
    }
    const row = this.row();
    if (!row) return problemResponse("not_found", "No cursor session with that id.", ctx);
    if (row.ended_at !== null) return problemResponse("conflict", "The session has ended.", ctx);
    if (this.ctx.getWebSockets().length >= MAX_VIEWERS) {
      return problemResponse("rate_limited", `At most ${MAX_VIEWERS} viewers per session.`, ctx, {
        headers: { "Retry-After": "10" },
      });
    }

    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const now = Date.now();
    server.serializeAttachment({ connectedAt: now, windowStart: now, messages: 0 } satisfies Attachment);
    server.send(JSON.stringify(this.hello(row)));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    // The limit is in bytes: a string's length counts UTF-16 units, so "é" × 300 would pass as 300 while being 600.
    const size = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (size > MAX_VIEWER_MESSAGE_BYTES) {
      ws.close(1009, "message too big");
      return;
    }
    const now = Date.now();
    const attachment = (ws.deserializeAttachment() as Attachment | null) ?? {
      connectedAt: now,
      windowStart: now,
      messages: 0,
    };
    if (now - attachment.windowStart > VIEWER_WINDOW_MS) {
      attachment.windowStart = now;
      attachment.messages = 0;
    }
    attachment.messages += 1;
    ws.serializeAttachment(attachment);
    if (attachment.messages > MAX_VIEWER_MESSAGES) {
      ws.close(1008, "too many messages");
      return;
    }
    // The only request a viewer can make: the totals again (e.g. after its tab was hidden a while).
    if (message === "hello") {
      const row = this.row();
      if (row) ws.send(JSON.stringify(this.hello(row)));
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      // Complete the closing handshake; newer runtimes do it themselves and this is then a no-op.
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // already closed
    }
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    log("warn", "cursor viewer socket error", errorFields(error));
  }

  /** Retries queue messages a failed send left in the outbox. */
  override async alarm(): Promise<void> {
    await this.flush();
  }

  private row(): SessionRow | null {
    return this.sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0] ?? null;
  }

  private hello(row: SessionRow): HelloFrame {
    return {
      type: "hello",
      session_id: row.session_id,
      server_time: Date.now(),
      total_distance: row.total_distance,
      event_count: row.event_count,
      last_t: row.last_t,
      last_point: row.last_x === null || row.last_y === null ? null : { x: row.last_x, y: row.last_y },
      ended: row.ended_at !== null,
    };
  }

  /** One serialization, sent to every socket in the same turn. */
  private broadcast(frame: ServerFrame): void {
    const text = JSON.stringify(frame);
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.send(text);
      } catch {
        // a socket that is closing; its close event cleans up
      }
    }
  }

  /** Serialized so two batches never send the same outbox row twice. */
  private flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushOnce());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushOnce(): Promise<void> {
    const rows = this.sql
      .exec<{ id: string; body: string }>("SELECT id, body FROM outbox ORDER BY created_at, id LIMIT 100")
      .toArray();
    if (rows.length === 0) return;
    try {
      for (const group of groupBySize(rows, SEND_BATCH_BYTES)) {
        await this.env.ANALYTICS_QUEUE.sendBatch(
          group.map((row) => ({ body: JSON.parse(row.body) as CursorEventsMessage, contentType: "json" as const })),
        );
        for (const row of group) this.sql.exec("DELETE FROM outbox WHERE id = ?", row.id);
      }
      const left = this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
      if (left > 0) await this.ctx.storage.setAlarm(Date.now());
    } catch (error) {
      log("warn", "cursor events not yet queued; retrying from the outbox", errorFields(error));
      await this.ctx.storage.setAlarm(Date.now() + FLUSH_RETRY_MS);
    }
  }
}

function stateOf(row: SessionRow): KinematicState {
  return {
    last: row.last_t === null ? null : { x: row.last_x!, y: row.last_y!, t: row.last_t },
    totalDistance: row.total_distance,
    eventCount: row.event_count,
    nextSeq: row.next_seq,
    open: row.open_second ? (JSON.parse(row.open_second) as SecondAggregate) : null,
  };
}

function groupBySize<T extends { body: string }>(rows: T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let size = 0;
  for (const row of rows) {
    const current = groups.at(-1);
    if (!current || size + row.body.length > maxBytes) {
      groups.push([row]);
      size = row.body.length;
    } else {
      current.push(row);
      size += row.body.length;
    }
  }
  return groups;
}
