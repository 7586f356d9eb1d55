import type { settings } from "../lib/settings";
import { EventStore } from "./event-store";
import { advance, type KinematicState, overfullSecond, type Point, type SequencedPoint } from "./kinematics";
import { TokenBucket } from "./limits";
import { type Bucket, CLOCK_SKEW_MS, type DataFrame, type IngestResult } from "./protocol";
import { planStats } from "./stats";

/** The settings the store enforces (read by the object from `settings(env)`; tests pass their own numbers). */
export type StoreSettings = Pick<
  ReturnType<typeof settings>,
  "cursorMaxEventsPerSecond" | "cursorMaxEventsBurst" | "cursorMaxEventsPerEventSecond" | "cursorMaxEventsPerSession"
>;

/**
 * Bytes the packed events of a session may take, per event of its cap: the page's 60 Hz pointer packs into about 7,
 * and events spaced out cost no more (a block holds them whatever their spacing), so only coordinates that
 * hundredths of a pixel cannot hold (stored as float64) come near. The session's bytes are capped at this times
 * CURSOR_MAX_EVENTS_PER_SESSION, whatever is sent.
 */
export const MAX_BYTES_PER_EVENT = 16;

/** The one row of table `session`: the session's identity, running totals, and what D1 and R2 have been given. */
export type SessionRow = {
  session_id: string;
  created_at: number;
  ended_at: number | null;
  last_active_at: number;
  last_x: number | null;
  last_y: number | null;
  last_t: number | null;
  total_distance: number;
  /** Events stored; also the seq the next event gets (seq is per session, from 0, gapless). */
  event_count: number;
  /** Events in the second of event time of `last_t`. */
  second_events: number;
  /** Bytes of packed events stored (the blocks' `points`). */
  stored_bytes: number;
  /** The newest seq D1 has been told about through a rollup (-1: none). */
  flushed_seq: number;
  /** Distinct rollup buckets sent, and the start of the newest (epoch seconds); queue messages sent. */
  rollups_sent: number;
  last_rollup: number | null;
  messages_sent: number;
  end_sent: number;
  archived_at: number | null;
};

const SESSION_SCHEMA = `
  CREATE TABLE IF NOT EXISTS session (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    session_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    ended_at INTEGER,
    last_active_at INTEGER NOT NULL,
    last_x REAL, last_y REAL, last_t INTEGER,
    total_distance REAL NOT NULL DEFAULT 0,
    event_count INTEGER NOT NULL DEFAULT 0,
    second_events INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    flushed_seq INTEGER NOT NULL DEFAULT -1,
    rollups_sent INTEGER NOT NULL DEFAULT 0,
    last_rollup INTEGER,
    messages_sent INTEGER NOT NULL DEFAULT 0,
    end_sent INTEGER NOT NULL DEFAULT 0,
    archived_at INTEGER
  );`;

export type StatsAnswer =
  | { ok: true; from: number; to: number; buckets: Bucket[] }
  | { ok: false; code: "not_found" }
  | { ok: false; code: "bad_range"; path: "to" | "bucket"; detail: string; message: string };

/**
 * The session's storage: the session row (kept in memory as last written, so a batch costs no SELECT; this object is
 * its only writer and runs one request at a time between awaits) and the raw events (`EventStore`), and ingest: a
 * batch is checked against the session's limits and stored in one synchronous transaction, so nothing can
 * interleave between the checks and the writes, and a refused batch stores nothing and takes no tokens.
 */
export class SessionStore {
  readonly events: EventStore;
  /** Batches this instance applied and the rows SQLite wrote for them (the capacity figures). */
  batches = 0;
  rowsWritten = 0;
  private cached: SessionRow | null | undefined;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly limits: StoreSettings,
  ) {
    storage.sql.exec(SESSION_SCHEMA);
    this.events = new EventStore(storage.sql);
    this.bucket = new TokenBucket(limits.cursorMaxEventsPerSecond, limits.cursorMaxEventsBurst);
  }

  /** Called once when the session is created; idempotent. */
  init(sessionId: string, createdAt: number): void {
    this.storage.sql.exec(
      "INSERT OR IGNORE INTO session (id, session_id, created_at, last_active_at) VALUES (1, ?, ?, ?)",
      sessionId,
      createdAt,
      createdAt,
    );
    this.cached = undefined;
  }

  row(): SessionRow | null {
    if (this.cached === undefined) {
      try {
        this.cached = this.storage.sql.exec<SessionRow>("SELECT * FROM session WHERE id = 1").toArray()[0] ?? null;
      } catch {
        // Purged: the tables are gone.
        this.cached = null;
      }
    }
    return this.cached;
  }

  /** The one way the session row changes: the UPDATE, then the copy in memory. Returns the rows written. */
  update(patch: Partial<Omit<SessionRow, "session_id" | "created_at">>): number {
    const row = this.row();
    const keys = Object.keys(patch) as (keyof typeof patch)[];
    if (!row || keys.length === 0) return 0;
    const cursor = this.storage.sql.exec(
      `UPDATE session SET ${keys.map((k) => `${k} = ?`).join(", ")} WHERE id = 1`,
      ...keys.map((k) => patch[k] ?? null),
    );
    cursor.toArray();
    this.cached = { ...row, ...patch };
    return cursor.rowsWritten;
  }

  /** After a purge: the tables are gone. */
  forget(): void {
    this.cached = null;
    this.events.reset();
  }

  /**
   * Checks one batch (time-ordered, 1..1000 events, already validated) against the session and its limits, and
   * stores it: the session row and the blocks it touched in one transaction. Accepted: the answer and the frame.
   */
  apply(events: readonly Point[], now: number): { result: IngestResult; frame?: DataFrame } {
    const row = this.row();
    if (!row) return { result: { ok: false, code: "not_found" } };
    if (row.ended_at !== null) return { result: { ok: false, code: "ended" } };
    if (row.last_t !== null && events[0]!.t < row.last_t) {
      return { result: { ok: false, code: "out_of_order", index: 0, last_t: row.last_t } };
    }
    // The session's life bounds every event's time, so a session touches at most one rollup bucket per 10 s of life.
    const from = row.created_at - CLOCK_SKEW_MS;
    const to = now + CLOCK_SKEW_MS;
    const outside = events.findIndex((e) => e.t < from || e.t > to);
    if (outside >= 0) return { result: { ok: false, code: "outside_life", index: outside, from, to } };
    const cap = this.limits.cursorMaxEventsPerSession;
    if (row.event_count + events.length > cap) return { result: { ok: false, code: "session_full", cap } };
    const before = stateOf(row);
    const overfull = overfullSecond(before, events, this.limits.cursorMaxEventsPerEventSecond);
    if (overfull >= 0) {
      const secondCap = this.limits.cursorMaxEventsPerEventSecond;
      return { result: { ok: false, code: "second_full", index: overfull, cap: secondCap } };
    }
    const wait = this.bucket.wait(events.length, now);
    if (wait > 0) return { result: { ok: false, code: "rate_limited", retry_after: wait } };
    const append = this.events.plan(events, row.event_count, before.last, before.totalDistance);
    if (row.stored_bytes + append.bytes > cap * MAX_BYTES_PER_EVENT) {
      return { result: { ok: false, code: "session_full", cap } };
    }

    const batch = advance(before, events);
    const { state } = batch;
    const last = state.last!;
    try {
      this.storage.transactionSync(() => {
        this.rowsWritten +=
          this.update({
            last_x: last.x,
            last_y: last.y,
            last_t: last.t,
            total_distance: state.totalDistance,
            event_count: state.eventCount,
            second_events: state.secondEvents,
            stored_bytes: row.stored_bytes + append.bytes,
            last_active_at: now,
          }) + this.events.write(append);
      });
    } catch (error) {
      this.cached = undefined;
      this.events.reset();
      throw error;
    }
    this.batches += 1;
    this.bucket.take(events.length, now);
    return {
      result: {
        ok: true,
        accepted: events.length,
        first_seq: row.event_count,
        last_seq: state.eventCount - 1,
        distance: batch.distance,
        speed: batch.speed,
        total_distance: state.totalDistance,
        event_count: state.eventCount,
        last_t: last.t,
      },
      frame: {
        type: "frame",
        t: last.t,
        speed: batch.speed,
        distance: batch.distance,
        total_distance: state.totalDistance,
        events: events.length,
        event_count: state.eventCount,
        window_ms: batch.windowMs,
      },
    };
  }

  /**
   * Takes `tokens` from the session's event budget if it holds them now: what a socket's refused messages cost, so
   * junk cannot be sent faster than real batches. False (nothing taken) when the budget cannot pay.
   */
  charge(tokens: number, now: number): boolean {
    if (this.bucket.wait(tokens, now) > 0) return false;
    this.bucket.take(tokens, now);
    return true;
  }

  /** GET /events: events with seq > after, in order; null when the session is unknown. */
  page(after: number, limit: number): { items: SequencedPoint[]; next_after: number | null } | null {
    if (!this.row()) return null;
    const page = this.events.page(after, limit + 1);
    const items = page.slice(0, limit);
    return { items, next_after: page.length > limit ? items.at(-1)!.seq : null };
  }

  /** GET /stats: the events summed into buckets (see planStats for the default range). */
  stats(bucketSeconds: number, from: number | null, to: number | null, now: number): StatsAnswer {
    const row = this.row();
    if (!row) return { ok: false, code: "not_found" };
    const first = this.events.firstT();
    const span = {
      first: first === null ? null : Math.floor(first / 1000),
      last: row.last_t === null ? null : Math.floor(row.last_t / 1000),
    };
    const plan = planStats({ bucketSeconds, from, to, createdAt: row.created_at, span, now });
    if (!plan.ok) return { ok: false, code: "bad_range", path: plan.path, detail: plan.detail, message: plan.message };
    const buckets = this.events.buckets(bucketSeconds, plan.fromSecond * 1000, plan.toSecond * 1000);
    return { ok: true, from: plan.from, to: plan.to, buckets };
  }
}

export function stateOf(row: SessionRow): KinematicState {
  return {
    last: row.last_t === null ? null : { x: row.last_x!, y: row.last_y!, t: row.last_t },
    totalDistance: row.total_distance,
    eventCount: row.event_count,
    secondEvents: row.second_events,
  };
}
