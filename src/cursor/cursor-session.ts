import { DurableObject } from "cloudflare:workers";
import { problemResponse } from "../lib/errors";
import { errorFields, log } from "../lib/log";
import { archiveKey, writeArchive } from "./archive";
import { EventStore } from "./event-store";
import { advance, type KinematicState, type Point, type SecondAggregate, type SequencedPoint } from "./kinematics";
import { type CursorLimits, cursorLimits, overfullSecond, TokenBucket } from "./limits";
import { RollupOutbox } from "./outbox";
import {
  type AckFrame,
  type CursorRollupsMessage,
  type DataFrame,
  eventsBatchSchema,
  type HelloFrame,
  type IngestResult,
  MAX_BATCH_MESSAGE_BYTES,
  type NackFrame,
  type ServerFrame,
} from "./protocol";
import { refusalProblem } from "./refusal";
import { Sequencer } from "./sequencer";
import { type BucketRow, planStats } from "./stats";

/** Viewers per session; one more is refused with a 429 rather than slowing every broadcast down. */
export const MAX_VIEWERS = 32;
/** Viewers only ever send pings (answered by the runtime without waking us) or the occasional "hello". */
export const MAX_VIEWER_MESSAGE_BYTES = 512;
export const MAX_VIEWER_MESSAGES = 20;
export const VIEWER_WINDOW_MS = 10_000;
/** A failed queue send or archive write is retried by the alarm this soon. */
export const RETRY_MS = 2_000;
/**
 * Set when a batch lands and no alarm is due sooner (setAlarm is a storage write, so not once per batch): if the
 * flush after it never happens (eviction, a failed send), this alarm sends what is pending.
 */
export const SAFETY_ALARM_MS = 5_000;
/** Batches sent with `first_seq` ahead of the session wait this long for the ones before them, at most this many. */
export const GAP_WAIT_MS = 2_000;
export const MAX_WAITING_BATCHES = 32;
/** The header by which the Worker tells the object that a socket belongs to the session token's holder. */
export const WRITER_HEADER = "x-cursor-writer";

export type { IngestAccepted, IngestRefusal, IngestResult } from "./protocol";

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
  /** Stored events not yet summed into a rollup sent to the queue (0: D1 has been told everything). */
  unflushed_events: number;
  archived_at: number | null;
  /** Bytes of the object's SQLite. */
  storage_bytes: number;
  /** Queue messages this instance sent, batches it applied and rows it wrote for them (for the capacity figures). */
  messages_sent: number;
  batches: number;
  rows_written: number;
};

export type StatsAnswer =
  | { ok: true; from: number; to: number; buckets: BucketRow[] }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "bad_range"; path: "to" | "bucket"; detail: string; message: string };

type Attachment = { connectedAt: number; windowStart: number; messages: number; writer?: boolean };

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
  flushed_seq: number;
  end_sent: number;
  archived_at: number | null;
};

/** Columns added after the first version: objects created before get them on their next start. */
const ADDED_COLUMNS = [
  "last_active_at INTEGER",
  "flushed_seq INTEGER NOT NULL DEFAULT -1",
  "end_sent INTEGER NOT NULL DEFAULT 0",
  "archived_at INTEGER",
];

/** The stub for a session id; one object per browser session. */
export function cursorSessionStub(env: Env, sessionId: string): DurableObjectStub<CursorSession> {
  return env.CURSOR_SESSION.get(env.CURSOR_SESSION.idFromName(sessionId));
}

/**
 * One per browser session of the cursor page: the shell. It owns the session row (last point, totals, seq counter,
 * open second, what D1 has been told), and hands the jobs to its parts:
 * - the sequencer (`sequencer.ts`) orders batches that name their first seq;
 * - the event store (`event-store.ts`, with the codec in `codec.ts`) keeps the raw events packed, one row per second
 *   of event time, and answers /events and /stats;
 * - the rollup outbox (`outbox.ts`) sends 10-second rollups to the `telemetry` queue, about once a second;
 * - the archive (`archive.ts`) writes the events to R2 when the session ends.
 * A batch is checked, applied and stored in one synchronous transaction (one storage commit, which the runtime
 * waits for before the answer and the frame leave). Nothing is lost on eviction: the outbox is the stored seconds
 * past `flushed_seq`, and an alarm (set whenever none is due sooner) sends what a failed send or an eviction left.
 *
 * WebSockets use the hibernation API: the object can be evicted while sockets stay connected, pings are answered
 * by the runtime without waking it, and per-socket state rides on serializeAttachment. The session token's holder
 * sends its batches over its socket (`{type:"events"}`, acked per batch), so a moving page costs no Worker
 * invocation per batch.
 */
export class CursorSession extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly store: EventStore;
  private readonly outbox: RollupOutbox;
  private readonly sequencer: Sequencer<IngestResult>;
  /**
   * The session row as last written, so a batch costs no SELECT. This object is the only writer of its storage and
   * runs one request at a time between awaits; the copy is replaced only after the write that it mirrors succeeded.
   */
  private cached: SessionRow | null | undefined;
  private limits: CursorLimits;
  private readonly bucket: TokenBucket;
  /** When the pending alarm fires, as far as this instance knows (null: not known, e.g. after an eviction). */
  private alarmAt: number | null = null;
  /** The socket batches' schema, built once; its "not in the future" bound reads `clock`, set per message. */
  private clock = 0;
  /** Rows this instance wrote for accepted batches (SQLite's own count; indexes included). */
  private rowsWritten = 0;
  private batches = 0;
  private readonly batchSchema = eventsBatchSchema(() => this.clock);

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
      DROP TABLE IF EXISTS outbox_batches;`);
    const columns = new Set(
      this.sql
        .exec<{ name: string }>("SELECT name FROM pragma_table_info('session')")
        .toArray()
        .map((c) => c.name),
    );
    for (const column of ADDED_COLUMNS) {
      if (!columns.has(column.split(" ")[0]!)) this.sql.exec(`ALTER TABLE session ADD COLUMN ${column}`);
    }
    this.store = new EventStore(this.sql);
    this.limits = cursorLimits(env);
    this.bucket = new TokenBucket(this.limits.eventsPerSecond, this.limits.burstEvents);
    this.sequencer = new Sequencer<IngestResult>(() => this.row()?.next_seq ?? null, GAP_WAIT_MS, MAX_WAITING_BATCHES);
    this.outbox = new RollupOutbox({
      store: this.store,
      sessionId: () => this.row()?.session_id ?? "",
      flushedSeq: () => this.row()?.flushed_seq ?? -1,
      setFlushedSeq: (seq) => {
        const row = this.row();
        if (!row || seq <= row.flushed_seq) return;
        this.sql.exec("UPDATE session SET flushed_seq = ? WHERE id = 1", seq);
        this.cached = { ...row, flushed_seq: seq };
      },
      send: async (message: CursorRollupsMessage) => {
        await this.env.TELEMETRY_QUEUE.send(message, { contentType: "json" });
      },
      retryLater: () => this.retrySoon(),
      intervalMs: this.limits.flushMs,
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
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

  /**
   * Applies one validated batch (time-ordered, 1..1000 events): limits, totals, storage, frames, rollups.
   * With `firstSeq` the sequencer orders it (see sequencer.ts); without, it applies after whatever the session has.
   */
  async ingest(events: Point[], now: number = Date.now(), firstSeq?: number): Promise<IngestResult> {
    const row = this.row();
    if (!row) return { ok: false, code: "not_found" };
    if (row.ended_at !== null) return { ok: false, code: "ended" };
    return this.sequencer.submit(firstSeq, () => {
      const current = this.row();
      if (!current) return { ok: false, code: "not_found" };
      if (current.ended_at !== null) return { ok: false, code: "ended" };
      return this.apply(current, events, now);
    });
  }

  /** One batch, synchronously: the checks, the session row and the seconds it touched in one transaction, the frame. */
  private apply(row: SessionRow, events: Point[], now: number): IngestResult {
    if (row.last_t !== null && events[0]!.t < row.last_t) {
      return { ok: false, code: "out_of_order", index: 0, last_t: row.last_t };
    }
    // The limits, all before anything is written: a refused batch stores nothing and takes no tokens.
    if (row.event_count + events.length > this.limits.eventsPerSession) {
      return { ok: false, code: "session_full", cap: this.limits.eventsPerSession };
    }
    const before = stateOf(row);
    const overfull = overfullSecond(before.open, events, this.limits.eventsPerEventSecond);
    if (overfull >= 0)
      return { ok: false, code: "second_full", index: overfull, cap: this.limits.eventsPerEventSecond };
    const wait = this.bucket.wait(events.length, now);
    if (wait > 0) return { ok: false, code: "rate_limited", retry_after: wait };

    const result = advance(before, events);
    const { state } = result;
    const last = state.last!;
    const firstSeq = row.next_seq;
    // The running distance at the end of each touched second: every second but the first lies wholly in this batch.
    const totals = new Map<number, number>();
    let after = state.totalDistance;
    for (let i = result.seconds.length - 1; i >= 0; i--) {
      totals.set(result.seconds[i]!.second, after);
      after -= result.seconds[i]!.distance;
    }
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
    try {
      // Synchronous: no other request can interleave between the checks above and these writes.
      this.ctx.storage.transactionSync(() => {
        const update = this.sql.exec(
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
        update.toArray();
        this.rowsWritten +=
          update.rowsWritten +
          this.store.write(events, result.seconds, (second) => totals.get(second) ?? state.totalDistance);
      });
    } catch (error) {
      this.store.reset();
      throw error;
    }
    this.cached = next;
    this.batches += 1;
    this.bucket.take(events.length, now);
    if (this.alarmAt === null || this.alarmAt > now + SAFETY_ALARM_MS) {
      // Only when no alarm is due soon: setAlarm is a storage write. Whatever the flush does not hand over, this
      // alarm does. (The idle alarm, far out, is brought forward here and set again after.)
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
    this.outbox.schedule();
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

  /**
   * Ends the session: tells every viewer, closes the sockets, refuses further events, sends the last rollups with
   * the final totals and archives the events to R2. What fails is retried by the alarm.
   */
  async end(now: number = Date.now()): Promise<{ found: boolean; ended_at: number | null }> {
    const row = this.row();
    if (!row) return { found: false, ended_at: null };
    const endedAt = row.ended_at ?? now;
    if (row.ended_at === null) {
      this.sql.exec("UPDATE session SET ended_at = ? WHERE id = 1", endedAt);
      this.cached = { ...row, ended_at: endedAt };
    }
    this.sequencer.cancelAll({ ok: false, code: "ended" });
    this.broadcast({ type: "ended", t: endedAt });
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "session ended");
      } catch {
        // already closing
      }
    }
    await this.finish();
    return { found: true, ended_at: endedAt };
  }

  /** After the end: the final rollups and summary once, then the archive once. */
  private async finish(): Promise<void> {
    const row = this.row();
    if (!row || row.ended_at === null) return;
    if (!row.end_sent) {
      const sent = await this.outbox.flush(true, {
        event_count: row.event_count,
        total_distance: row.total_distance,
        last_event_at: row.last_t,
        ended_at: row.ended_at,
      });
      if (!sent) return;
      this.sql.exec("UPDATE session SET end_sent = 1 WHERE id = 1");
      this.cached = { ...this.row()!, end_sent: 1 };
    }
    if (row.archived_at === null && this.env.ARCHIVE) {
      try {
        await writeArchive(this.env.ARCHIVE, this.store, {
          session_id: row.session_id,
          created_at: row.created_at,
          ended_at: row.ended_at,
          event_count: row.event_count,
        });
        const at = Date.now();
        this.sql.exec("UPDATE session SET archived_at = ? WHERE id = 1", at);
        this.cached = { ...this.row()!, archived_at: at };
      } catch (error) {
        log("warn", "cursor archive not written; the alarm retries", {
          session_id: row.session_id,
          ...errorFields(error),
        });
        await this.retrySoon();
      }
    }
  }

  async snapshot(): Promise<SessionSnapshot | null> {
    const row = this.row();
    if (!row) return null;
    const state = stateOf(row);
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
      unflushed_events: row.next_seq - 1 - row.flushed_seq,
      archived_at: row.archived_at,
      storage_bytes: this.store.databaseSize(),
      messages_sent: this.outbox.sent,
      batches: this.batches,
      rows_written: this.rowsWritten,
    };
  }

  /** GET /events: events with seq > after, in order; null when the session is unknown. */
  async events(after: number, limit: number): Promise<{ items: SequencedPoint[]; next_after: number | null } | null> {
    if (!this.row()) return null;
    const page = this.store.page(after, limit + 1);
    const items = page.slice(0, limit);
    return { items, next_after: page.length > limit ? items.at(-1)!.seq : null };
  }

  /** GET /stats: the per-second rows re-aggregated into buckets (see planStats for the default range). */
  async stats(bucketSeconds: number, from: number | null, to: number | null, now = Date.now()): Promise<StatsAnswer> {
    const row = this.row();
    if (!row) return { ok: false, code: "not_found" };
    const plan = planStats({ bucketSeconds, from, to, createdAt: row.created_at, span: this.store.span(), now });
    if (!plan.ok) return { ok: false, code: "bad_range", path: plan.path, detail: plan.detail, message: plan.message };
    return {
      ok: true,
      from: plan.from,
      to: plan.to,
      buckets: this.store.buckets(bucketSeconds, plan.fromSecond, plan.toSecond),
    };
  }

  /** The WebSocket upgrade; the Worker has already checked the token (and says whether it is the session's own). */
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
    server.serializeAttachment({
      connectedAt: now,
      windowStart: now,
      messages: 0,
      writer: request.headers.get(WRITER_HEADER) === "1",
    } satisfies Attachment);
    server.send(JSON.stringify(this.hello(row)));
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const now = Date.now();
    const attachment = (ws.deserializeAttachment() as Attachment | null) ?? {
      connectedAt: now,
      windowStart: now,
      messages: 0,
    };
    // The limit is in bytes: a string's length counts UTF-16 units, so "é" × 300 would pass as 300 while being 600.
    const size = typeof message === "string" ? new TextEncoder().encode(message).byteLength : message.byteLength;
    if (size > (attachment.writer ? MAX_BATCH_MESSAGE_BYTES : MAX_VIEWER_MESSAGE_BYTES)) {
      ws.close(1009, "message too big");
      return;
    }
    if (attachment.writer && typeof message === "string" && message.startsWith("{")) {
      // A batch: limited by the session's own limits (token bucket and caps), not by the viewer message count.
      await this.socketBatch(ws, message, now);
      return;
    }
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
    if (typeof message === "string" && message.startsWith("{")) {
      // A batch from a socket that is not the session's own (an admin watching): refused, nothing stored.
      this.send(ws, {
        type: "nack",
        first_seq: null,
        status: 403,
        detail: "Only the session's own page may send events.",
      });
      return;
    }
    // The only request a viewer can make: the totals again (e.g. after its tab was hidden a while).
    if (message === "hello") {
      const row = this.row();
      if (row) ws.send(JSON.stringify(this.hello(row)));
    }
  }

  /** `{ type: "events", first_seq, events }` from the session's page: validated like POST …/events, then acked. */
  private async socketBatch(ws: WebSocket, text: string, now: number): Promise<void> {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      this.send(ws, { type: "nack", first_seq: null, status: 400, detail: "Malformed JSON." });
      return;
    }
    const { type, ...rest } = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const firstSeqRaw = typeof rest.first_seq === "number" ? rest.first_seq : null;
    if (type !== "events") {
      this.send(ws, { type: "nack", first_seq: firstSeqRaw, status: 422, detail: 'Expected { "type": "events", … }.' });
      return;
    }
    this.clock = now;
    const parsed = this.batchSchema.safeParse(rest);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      this.send(ws, {
        type: "nack",
        first_seq: firstSeqRaw,
        status: 422,
        detail: `${issue.path.join(".")}: ${issue.message}`,
      });
      return;
    }
    const result = await this.ingest(parsed.data.events, now, parsed.data.first_seq);
    if (result.ok) {
      this.send(ws, {
        type: "ack",
        first_seq: result.first_seq,
        last_seq: result.last_seq,
        event_count: result.event_count,
        total_distance: result.total_distance,
      });
      return;
    }
    const problem = refusalProblem(result);
    const nack: NackFrame = {
      type: "nack",
      first_seq: firstSeqRaw,
      status:
        { conflict: 409, validation_failed: 422, rate_limited: 429, not_found: 404 }[problem.code as string] ?? 400,
      detail: problem.detail,
    };
    if ("next_seq" in result) nack.next_seq = result.next_seq;
    if (result.code === "rate_limited") nack.retry_after = result.retry_after;
    this.send(ws, nack);
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
    log("warn", "cursor socket error", errorFields(error));
  }

  /**
   * Sends what a failed send or an eviction left pending, finishes an ended session (final rollups, archive), and
   * applies the idle rule: no events for CURSOR_IDLE_MINUTES ends the session. Then the alarm is set again.
   */
  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const row = this.row();
    if (!row) return;
    if (row.ended_at !== null) {
      await this.finish();
      return;
    }
    const sent = await this.outbox.flush(true);
    const now = Date.now();
    const lastActive = row.last_active_at ?? row.created_at;
    const idleAt = lastActive + this.limits.idleMs;
    if (now >= idleAt) {
      log("info", "cursor session idle; ended", { session_id: row.session_id, idle_ms: now - lastActive });
      await this.end(now);
      return;
    }
    await this.armAlarm(sent ? idleAt : Math.min(idleAt, now + RETRY_MS));
  }

  /**
   * Retention: everything this session stored goes: its archive in R2, then the object's SQLite and alarm
   * (`deleteAll`); sockets are closed first.
   */
  async purge(): Promise<void> {
    const row = this.row();
    for (const ws of this.ctx.getWebSockets()) {
      try {
        ws.close(1000, "session deleted");
      } catch {
        // already closing
      }
    }
    if (row && this.env.ARCHIVE) await this.env.ARCHIVE.delete(archiveKey(row.session_id, row.created_at));
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.cached = null;
    this.alarmAt = null;
  }

  /** Sets the alarm to `at` unless one is already due sooner. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === null) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at && this.alarmAt > Date.now()) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  private retrySoon(): Promise<void> {
    this.alarmAt = Date.now() + RETRY_MS;
    return this.ctx.storage.setAlarm(this.alarmAt);
  }

  private row(): SessionRow | null {
    if (this.cached === undefined) {
      try {
        this.cached = this.sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0] ?? null;
      } catch {
        // Purged: the tables are gone.
        this.cached = null;
      }
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

  private send(ws: WebSocket, frame: AckFrame | NackFrame): void {
    try {
      ws.send(JSON.stringify(frame));
    } catch {
      // a socket that is closing
    }
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
