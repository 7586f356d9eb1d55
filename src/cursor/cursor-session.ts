import { DurableObject } from "cloudflare:workers";
import { problemResponse } from "../lib/errors";
import { errorFields, log } from "../lib/log";
import { advance, type KinematicState, type Point, type SecondAggregate, type SequencedPoint } from "./kinematics";
import { type CursorLimits, cursorLimits, overfullSecond, TokenBucket } from "./limits";
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
/**
 * Set when a batch lands in the outbox and no alarm is pending (setAlarm is a storage write, so not once per batch):
 * if the flush after it never completes (eviction, a failed send), this alarm sends the outbox.
 */
export const SAFETY_ALARM_MS = 5_000;
/**
 * The outbox is handed to the queue this long after the first batch waiting in it, or at once when this many events
 * wait: under load one send (and one DELETE) carries many batches, and a queue message many hundreds of events.
 */
export const FLUSH_DELAY_MS = 50;
export const FLUSH_EVENTS = 2_000;
/** Outbox batches sent per flush round (each queue sendBatch carries at most 100 messages). */
const FLUSH_BATCHES = 200;
/** Batches sent with `first_seq` ahead of the session wait this long for the ones before them, at most this many. */
export const GAP_WAIT_MS = 2_000;
export const MAX_WAITING_BATCHES = 32;

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
  | { ok: false; code: "not_found" | "ended" | "too_many_waiting" }
  /** The session's token bucket (events per second of wall time) is short: retry after `retry_after` seconds. */
  | { ok: false; code: "rate_limited"; retry_after: number }
  /** Event `index` would put more than the cap into its second of event time. */
  | { ok: false; code: "second_full"; index: number; cap: number }
  /** The session holds (or would hold) more than CURSOR_MAX_EVENTS_PER_SESSION events. */
  | { ok: false; code: "session_full"; cap: number }
  | { ok: false; code: "out_of_order"; index: number; last_t: number }
  /** `first_seq` names events the session already has (a retry of an accepted batch), or another waiting batch's. */
  | { ok: false; code: "duplicate"; first_seq: number; next_seq: number }
  /** `first_seq` was ahead of the session and the batches before it did not arrive within GAP_WAIT_MS. */
  | { ok: false; code: "gap"; first_seq: number; next_seq: number };

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

/**
 * One accepted batch as it waits in the outbox: the events flat (x, y, t per event; seq = first_seq + index), the
 * seconds it touched and the totals after it. About a third of the size of the queue message it becomes, and no
 * per-event objects to build or serialise on the request path.
 */
type OutboxBatch = {
  first_seq: number;
  xyt: number[];
  seconds: SecondAggregate[];
  summary: NonNullable<CursorEventsMessage["summary"]>;
};

type Waiting = {
  events: Point[];
  now: number;
  resolve: (result: IngestResult) => void;
  timer: ReturnType<typeof setTimeout>;
};

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
  last_active_at: number | null;
};

/** The stub for a session id; one object per browser session. */
export function cursorSessionStub(env: Env, sessionId: string): DurableObjectStub<CursorSession> {
  const namespace = env.CURSOR_SESSION as unknown as DurableObjectNamespace<CursorSession>;
  return namespace.get(namespace.idFromName(sessionId));
}

/**
 * One per browser session of the cursor page. Everything that must survive eviction lives in the object's SQLite:
 * the last point, the running totals, the sequence counter, the still-open second, and an outbox of accepted batches
 * not yet handed to the queue. A batch is applied, and written to the outbox, in one synchronous transaction (one
 * storage commit per batch, which the runtime waits for before the answer and the frame leave). The outbox is sent
 * shortly after, many batches per queue send; the rows sent are deleted inside the next batch's transaction (or by
 * the alarm when no batch follows), so handing over costs no commit of its own. An alarm, set whenever none is
 * pending, sends whatever a failed send or an eviction left behind. So nothing is lost, and since the consumer's
 * keys ((session_id, seq), last_seq) make a resend harmless, a batch sent but not yet deleted is simply sent again.
 *
 * WebSockets use the hibernation API: the object can be evicted while viewers stay connected, pings are answered by
 * the runtime (setWebSocketAutoResponse) without waking it, and per-socket state rides on serializeAttachment.
 */
export class CursorSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  /**
   * The session row as last written, so a batch costs no SELECT. This object is the only writer of its storage and
   * runs one request at a time between awaits; the copy is replaced only after the write that it mirrors succeeded.
   */
  private cached: SessionRow | null | undefined;
  /** Batches sent with a `first_seq` ahead of the session, by that seq, until the ones before them arrive. */
  private readonly waiting = new Map<number, Waiting>();
  /** True while an alarm set by this instance has not fired yet: a batch then needs no setAlarm of its own. */
  private alarmPending = false;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private pendingEvents = 0;
  /**
   * Outbox batches not yet sent, oldest first, as written (null: not known in this instance yet, read from SQLite
   * by the next flush). Batches up to `sentSeq` were sent but may still be in SQLite until `deleteSent()`.
   */
  private unsent: OutboxBatch[] | null = null;
  private sentSeq = -1;
  private deletedSeq = -1;
  private flushing: Promise<void> | null = null;
  private flushAgain = false;
  private readonly limits: CursorLimits;
  private readonly bucket: TokenBucket;
  /** When the pending alarm fires, as far as this instance knows (null: not known, e.g. after an eviction). */
  private alarmAt: number | null = null;

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
      CREATE TABLE IF NOT EXISTS outbox_batches (
        first_seq INTEGER PRIMARY KEY,
        body TEXT NOT NULL
      );`);
    // Objects created before the idle rule: the column is added once (an error means it is there already).
    try {
      this.sql.exec("ALTER TABLE session ADD COLUMN last_active_at INTEGER");
    } catch {
      // present
    }
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    this.limits = cursorLimits(env);
    this.bucket = new TokenBucket(this.limits.eventsPerSecond, this.limits.burstEvents);
  }

  /** Called once when the session is created; idempotent. */
  async init(sessionId: string, createdAt: number): Promise<void> {
    this.sql.exec(
      "INSERT OR IGNORE INTO session (id, session_id, created_at, last_active_at) VALUES (1, ?, ?, ?)",
      sessionId,
      createdAt,
      createdAt,
    );
    this.cached = undefined;
    // The idle rule: a session nobody uses ends itself.
    await this.armAlarm(createdAt + this.limits.idleMs);
  }

  /** Sets the alarm to `at` unless one is already due sooner. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === null) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  /**
   * Applies one validated batch (time-ordered, 1..1000 events): totals, frames to every viewer, queue messages.
   *
   * Without `firstSeq` the batch applies at once, after whatever the session already has. With it (the seq its first
   * event must get, i.e. the previous answer's last_seq + 1), a client may send several batches without waiting for
   * each answer: each HTTP request reaches this object on its own, in any order, so a batch that arrives ahead of
   * the session waits (at most GAP_WAIT_MS) for the ones before it, and is applied in the same turn as the batch that
   * fills the gap. A `firstSeq` the session already used is a retry of an accepted batch and is refused, so a client
   * that lost an answer can resend without storing anything twice. The time-order check applies either way.
   */
  async ingest(events: Point[], now: number = Date.now(), firstSeq?: number): Promise<IngestResult> {
    const row = this.row();
    if (!row) return { ok: false, code: "not_found" };
    if (row.ended_at !== null) return { ok: false, code: "ended" };
    if (firstSeq !== undefined && firstSeq !== row.next_seq) {
      if (firstSeq < row.next_seq || this.waiting.has(firstSeq)) {
        return { ok: false, code: "duplicate", first_seq: firstSeq, next_seq: row.next_seq };
      }
      if (this.waiting.size >= MAX_WAITING_BATCHES) return { ok: false, code: "too_many_waiting" };
      return new Promise<IngestResult>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(firstSeq);
          resolve({ ok: false, code: "gap", first_seq: firstSeq, next_seq: this.row()?.next_seq ?? 0 });
        }, GAP_WAIT_MS);
        this.waiting.set(firstSeq, { events, now, resolve, timer });
      });
    }
    const result = this.apply(row, events, now);
    this.releaseWaiting();
    return result;
  }

  /** Applies the waiting batches that are now next in line, in seq order, in this same turn. */
  private releaseWaiting(): void {
    for (;;) {
      const row = this.row();
      const next = row ? this.waiting.get(row.next_seq) : undefined;
      if (!row || !next) return;
      this.waiting.delete(row.next_seq);
      clearTimeout(next.timer);
      const result =
        row.ended_at !== null ? ({ ok: false, code: "ended" } as const) : this.apply(row, next.events, next.now);
      next.resolve(result);
      if (!result.ok) return;
    }
  }

  /** One batch, synchronously: the checks, the state and its outbox row in one transaction, the frame. */
  private apply(row: SessionRow, events: Point[], now: number): IngestResult {
    if (row.last_t !== null && events[0]!.t < row.last_t) {
      return { ok: false, code: "out_of_order", index: 0, last_t: row.last_t };
    }
    // The limits, all before anything is written: a refused batch stores nothing and takes no tokens.
    if (row.event_count + events.length > this.limits.eventsPerSession) {
      return { ok: false, code: "session_full", cap: this.limits.eventsPerSession };
    }
    const overfull = overfullSecond(stateOf(row).open, events, this.limits.eventsPerEventSecond);
    if (overfull >= 0)
      return { ok: false, code: "second_full", index: overfull, cap: this.limits.eventsPerEventSecond };
    const wait = this.bucket.wait(events.length, now);
    if (wait > 0) return { ok: false, code: "rate_limited", retry_after: wait };
    this.bucket.take(events.length, now);

    const result = advance(stateOf(row), events);
    const { state } = result;
    const last = state.last!;
    const firstSeq = row.next_seq;
    const xyt = new Array<number>(events.length * 3);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      xyt[i * 3] = e.x;
      xyt[i * 3 + 1] = e.y;
      xyt[i * 3 + 2] = e.t;
    }
    const batch: OutboxBatch = {
      first_seq: firstSeq,
      xyt,
      seconds: result.seconds,
      summary: { event_count: state.eventCount, total_distance: state.totalDistance, last_event_at: last.t },
    };
    const next: SessionRow = {
      ...row,
      last_x: last.x,
      last_y: last.y,
      last_t: last.t,
      total_distance: state.totalDistance,
      event_count: state.eventCount,
      next_seq: state.nextSeq,
      open_second: state.open ? JSON.stringify(state.open) : null,
      last_active_at: now,
    };
    // Synchronous: no other request can interleave between the check above and this write.
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `UPDATE session SET last_x = ?, last_y = ?, last_t = ?, total_distance = ?, event_count = ?, next_seq = ?,
           open_second = ?, last_active_at = ? WHERE id = 1`,
        next.last_x,
        next.last_y,
        next.last_t,
        next.total_distance,
        next.event_count,
        next.next_seq,
        next.open_second,
        now,
      );
      this.sql.exec("INSERT INTO outbox_batches (first_seq, body) VALUES (?, ?)", firstSeq, JSON.stringify(batch));
      // What the last flush handed over goes in this same commit.
      if (this.sentSeq > this.deletedSeq)
        this.sql.exec("DELETE FROM outbox_batches WHERE first_seq <= ?", this.sentSeq);
    });
    this.cached = next;
    this.deletedSeq = Math.max(this.deletedSeq, this.sentSeq);
    this.unsent?.push(batch);
    if (!this.alarmPending || this.alarmAt === null || this.alarmAt > now + SAFETY_ALARM_MS) {
      // Only when no alarm is due soon: setAlarm is a storage write. Whatever the flush below does not hand over,
      // this does. (The idle alarm, far out, does not count: it is brought forward here and re-armed after.)
      this.alarmPending = true;
      this.alarmAt = now + SAFETY_ALARM_MS;
      void this.ctx.storage.setAlarm(this.alarmAt);
    }

    const frame: DataFrame = {
      type: "frame",
      t: last.t,
      speed: result.speed,
      distance: result.distance,
      total_distance: state.totalDistance,
      events: events.length,
      event_count: state.eventCount,
      window_ms: result.windowMs,
    };
    this.broadcast(frame);
    // The answer does not wait for the queue: the batch is already durable in the outbox (the runtime holds the
    // answer and the frame until that write is), and the alarm above hands it over should this flush not happen.
    this.pendingEvents += events.length;
    this.scheduleFlush();

    return {
      ok: true,
      accepted: events.length,
      first_seq: firstSeq,
      last_seq: state.nextSeq - 1,
      distance: result.distance,
      speed: result.speed,
      total_distance: state.totalDistance,
      event_count: state.eventCount,
      last_t: last.t,
    };
  }

  /** Ends the session: tells every viewer, closes the sockets, refuses further events. */
  async end(now: number = Date.now()): Promise<{ found: boolean; ended_at: number | null }> {
    const row = this.row();
    if (!row) return { found: false, ended_at: null };
    const endedAt = row.ended_at ?? now;
    if (row.ended_at === null) {
      this.sql.exec("UPDATE session SET ended_at = ? WHERE id = 1", endedAt);
      this.cached = { ...row, ended_at: endedAt };
    }
    for (const [seq, waiting] of this.waiting) {
      this.waiting.delete(seq);
      clearTimeout(waiting.timer);
      waiting.resolve({ ok: false, code: "ended" });
    }
    this.broadcast({ type: "ended", t: endedAt });
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "session ended");
      } catch {
        // already closing
      }
    }
    await this.flush();
    this.deleteSent();
    return { found: true, ended_at: endedAt };
  }

  async snapshot(): Promise<SessionSnapshot | null> {
    const row = this.row();
    if (!row) return null;
    const state = stateOf(row);
    const pending = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM outbox_batches WHERE first_seq > ?", this.sentSeq)
      .one().n;
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

  /**
   * Retries queue messages a failed send left in the outbox, and applies the idle rule: no events for
   * CURSOR_IDLE_MINUTES ends the session. Otherwise the alarm is set again for when the session would be idle.
   */
  override async alarm(): Promise<void> {
    // This alarm has fired: the next batch must set one again.
    this.alarmPending = false;
    this.alarmAt = null;
    await this.flush();
    this.deleteSent();
    const row = this.row();
    if (!row || row.ended_at !== null) return;
    const now = Date.now();
    const idleAt = (row.last_active_at ?? row.created_at) + this.limits.idleMs;
    if (now >= idleAt) {
      log("info", "cursor session idle; ended", {
        session_id: row.session_id,
        idle_ms: now - (row.last_active_at ?? row.created_at),
      });
      await this.end(now);
      return;
    }
    const pending = this.unsent === null || this.unsent.length > 0;
    await this.armAlarm(pending ? Math.min(idleAt, now + FLUSH_RETRY_MS) : idleAt);
  }

  /** Retention: everything this object stored goes (SQLite and the alarm); sockets are closed first. */
  async purge(): Promise<void> {
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "session deleted");
      } catch {
        // already closing
      }
    }
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.cached = null;
    this.alarmAt = null;
  }

  /** Deletes the outbox rows already sent (a batch's own transaction does it too). */
  private deleteSent(): void {
    if (this.sentSeq <= this.deletedSeq) return;
    this.sql.exec("DELETE FROM outbox_batches WHERE first_seq <= ?", this.sentSeq);
    this.deletedSeq = this.sentSeq;
  }

  private row(): SessionRow | null {
    if (this.cached === undefined) {
      this.cached = this.sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0] ?? null;
    }
    return this.cached;
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

  /** After FLUSH_DELAY_MS, or at once when FLUSH_EVENTS wait; never while a flush is running (it loops instead). */
  private scheduleFlush(): void {
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    if (this.pendingEvents >= FLUSH_EVENTS) {
      void this.flush();
      return;
    }
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = null;
      void this.flush();
    }, FLUSH_DELAY_MS);
  }

  /**
   * Hands the outbox to the queue. One flush at a time, so no row is ever sent by two of them; batches that land
   * meanwhile are taken by another round of the same flush.
   */
  private flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.flushing) {
      this.flushAgain = true;
      return this.flushing;
    }
    const run = async () => {
      try {
        do {
          this.flushAgain = false;
          this.pendingEvents = 0;
          if (!(await this.flushOnce())) return;
        } while (this.flushAgain);
      } finally {
        this.flushing = null;
      }
    };
    this.flushing = run();
    return this.flushing;
  }

  /** One round: up to FLUSH_BATCHES outbox batches sent. False when a send failed (the alarm retries). */
  private async flushOnce(): Promise<boolean> {
    if (this.unsent === null) {
      // A new instance (after an eviction, or the first flush): whatever SQLite still holds is unsent as far as we
      // know. A batch sent just before an eviction is sent again; the consumer ignores what it already has.
      this.unsent = this.sql
        .exec<{ body: string }>("SELECT body FROM outbox_batches WHERE first_seq > ? ORDER BY first_seq", this.sentSeq)
        .toArray()
        .map((r) => JSON.parse(r.body) as OutboxBatch);
    }
    const batches = this.unsent.slice(0, FLUSH_BATCHES);
    if (batches.length === 0) return true;
    try {
      const sessionId = this.row()?.session_id ?? "";
      const messages = outboxMessages(sessionId, batches);
      const groups = groupBySize(messages, SEND_BATCH_BYTES);
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        await this.env.ANALYTICS_QUEUE.sendBatch(
          group.map(({ message }) => ({ body: message, contentType: "json" as const })),
        );
        // A batch counts as sent once every message made of it is: messages of one merge share its last batch, and
        // those may continue in the next group.
        const following = groups[g + 1]?.[0]?.lastSeq;
        for (const { lastSeq } of group) if (lastSeq !== following) this.markSent(lastSeq);
      }
      if (this.unsent.length > 0) this.flushAgain = true;
      return true;
    } catch (error) {
      log("warn", "cursor events not yet queued; retrying from the outbox", errorFields(error));
      this.alarmPending = true;
      this.alarmAt = Date.now() + FLUSH_RETRY_MS;
      await this.ctx.storage.setAlarm(this.alarmAt);
      return false;
    }
  }

  private markSent(firstSeq: number): void {
    if (firstSeq <= this.sentSeq) return;
    this.sentSeq = firstSeq;
    const unsent = this.unsent ?? [];
    let n = 0;
    while (n < unsent.length && unsent[n]!.first_seq <= firstSeq) n++;
    unsent.splice(0, n);
  }
}

/** A queue message, its JSON size, and the first_seq of the last outbox batch it (partly) carries. */
type PackedMessage = { message: CursorEventsMessage; size: number; lastSeq: number };

/**
 * Queue messages for a run of outbox batches: consecutive batches are merged (events in seq order, each second's
 * newest version, the latest totals) and split by packMessages to stay under the message size limit.
 */
function outboxMessages(sessionId: string, batches: readonly OutboxBatch[]): PackedMessage[] {
  const out: PackedMessage[] = [];
  let events: SequencedPoint[] = [];
  let seconds = new Map<number, SecondAggregate>();
  let summary: OutboxBatch["summary"] | undefined;
  let lastSeq = 0;
  const emit = () => {
    if (events.length === 0 && seconds.size === 0) return;
    for (const message of packMessages(sessionId, events, [...seconds.values()], summary)) {
      out.push({ message, size: JSON.stringify(message).length, lastSeq });
    }
    events = [];
    seconds = new Map();
    summary = undefined;
  };
  for (const batch of batches) {
    const { xyt, first_seq } = batch;
    for (let i = 0; i < xyt.length; i += 3) {
      events.push({ seq: first_seq + i / 3, x: xyt[i]!, y: xyt[i + 1]!, t: xyt[i + 2]! });
    }
    for (const second of batch.seconds) {
      const existing = seconds.get(second.second);
      if (!existing || existing.last_seq < second.last_seq) seconds.set(second.second, second);
    }
    summary = batch.summary;
    lastSeq = first_seq;
    // Many batches at once: a few messages of about FLUSH_EVENTS events rather than one very large merge.
    if (events.length >= FLUSH_EVENTS) emit();
  }
  emit();
  return out;
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

function groupBySize<T extends { size: number }>(items: T[], maxBytes: number): T[][] {
  const groups: T[][] = [];
  let size = 0;
  for (const item of items) {
    const current = groups.at(-1);
    if (!current || size + item.size > maxBytes || current.length >= 100) {
      groups.push([item]);
      size = item.size;
    } else {
      current.push(item);
      size += item.size;
    }
  }
  return groups;
}
