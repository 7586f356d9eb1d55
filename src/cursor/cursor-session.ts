import { DurableObject } from "cloudflare:workers";
import { problemResponse } from "../lib/errors";
import { settings } from "../lib/settings";
import type { Point, SequencedPoint } from "./kinematics";
import { Lifecycle } from "./lifecycle";
import type { HelloFrame, IngestResult } from "./protocol";
import { Sequencer } from "./sequencer";
import { type SessionRow, SessionStore, type StatsAnswer, type StoreSettings } from "./session-store";
import { SocketGateway } from "./socket-gateway";

/** Batches sent with `first_seq` ahead of the session wait this long for the ones before them, at most this many. */
export const GAP_WAIT_MS = 2_000;
export const MAX_WAITING_BATCHES = 32;

export type SessionSnapshot = {
  session_id: string;
  created_at: number;
  ended_at: number | null;
  total_distance: number;
  event_count: number;
  last: Point | null;
  viewers: number;
  /** Stored events not yet summed into a rollup sent to the queue (0: D1 has been told everything). */
  unflushed_events: number;
  archived_at: number | null;
  /** Bytes of the object's SQLite, and of the packed events in it. */
  storage_bytes: number;
  stored_bytes: number;
  /** Queue messages this instance sent, batches it applied and rows it wrote for them (for the capacity figures). */
  messages_sent: number;
  batches: number;
  rows_written: number;
};

/** The stub for a session id; one object per browser session. */
export function cursorSessionStub(env: Env, sessionId: string): DurableObjectStub<CursorSession> {
  return env.CURSOR_SESSION.get(env.CURSOR_SESSION.idFromName(sessionId));
}

/** What the parts of a session need from outside the object: the queue, the archive bucket and the settings. */
export type SessionDeps = {
  queue: Pick<Queue, "send">;
  archive: R2Bucket | undefined;
  settings: StoreSettings & { cursorIdleMinutes: number; cursorFlushSeconds: number };
};

/** The parts of one session, wired together (the object does this once; tests build their own with other deps). */
export function sessionParts(ctx: DurableObjectState, deps: SessionDeps) {
  const store = new SessionStore(ctx.storage, deps.settings);
  const sequencer = new Sequencer<IngestResult>(
    () => store.row()?.event_count ?? null,
    GAP_WAIT_MS,
    MAX_WAITING_BATCHES,
  );
  const gateway = new SocketGateway(ctx, {
    hello: () => helloOf(store.row()),
    events: (message, now) => ingest(message.events, now, message.first_seq),
    charge: (events, now) => store.charge(events, now),
  });
  const lifecycle = new Lifecycle({
    storage: ctx.storage,
    store,
    gateway,
    sequencer,
    queue: deps.queue,
    archive: deps.archive,
    idleMs: deps.settings.cursorIdleMinutes * 60_000,
    flushMs: deps.settings.cursorFlushSeconds * 1000,
  });
  /** With `firstSeq` the sequencer orders it (see sequencer.ts); without, it applies after whatever the session has. */
  async function ingest(events: readonly Point[], now: number, firstSeq?: number): Promise<IngestResult> {
    const row = store.row();
    if (!row) return { ok: false, code: "not_found" };
    if (row.ended_at !== null) return { ok: false, code: "ended" };
    return sequencer.submit(firstSeq, () => {
      // One transaction; then the frame to every socket, the rollups and the safety alarm.
      const { result, frame } = store.apply(events, now);
      if (frame) {
        gateway.broadcast(frame);
        lifecycle.afterBatch(now);
      }
      return result;
    });
  }
  return { store, gateway, lifecycle, outbox: lifecycle.outbox, ingest };
}

/**
 * One per browser session of the cursor page: a thin shell over its parts, each in its own module:
 * - the session store (`session-store.ts`, with the packed events in `event-store.ts` and `codec.ts`): the session
 *   row, the limits, and each batch checked and stored in one synchronous transaction;
 * - the socket gateway (`socket-gateway.ts`): the WebSockets, their messages and their limits;
 * - the lifecycle (`lifecycle.ts`): the alarm, the end (rollups, `archive.ts`), the purge;
 * - the rollup outbox (`outbox.ts`), which sends 10-second rollups to the `telemetry` queue every
 *   CURSOR_FLUSH_SECONDS while the session moves, and the sequencer (`sequencer.ts`), which orders batches that name
 *   their first seq.
 * The methods below are the calls the Worker makes (RPC), the WebSocket upgrade and the runtime's handlers.
 *
 * WebSockets use the hibernation API: the object can be evicted while sockets stay connected, pings are answered by
 * the runtime without waking it, and per-socket state rides on serializeAttachment. The session token's holder sends
 * its batches over its socket (`{ type: "events" }`, acked per batch), so a moving page costs no Worker invocation.
 */
export class CursorSession extends DurableObject<Env> {
  private readonly parts: ReturnType<typeof sessionParts>;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.parts = sessionParts(ctx, { queue: env.TELEMETRY_QUEUE, archive: env.ARCHIVE, settings: settings(env) });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  /** Called once when the session is created; idempotent. */
  async init(sessionId: string, createdAt: number): Promise<void> {
    this.parts.store.init(sessionId, createdAt);
    await this.parts.lifecycle.start(createdAt);
  }

  /** Applies one batch (time-ordered, 1..1000 events, validated by the Worker): limits, storage, frames, rollups. */
  async ingest(events: Point[], now: number = Date.now(), firstSeq?: number): Promise<IngestResult> {
    return this.parts.ingest(events, now, firstSeq);
  }

  /** Ends the session (DELETE, or the idle alarm); idempotent. */
  async end(now: number = Date.now()): Promise<{ found: boolean; ended_at: number | null }> {
    return this.parts.lifecycle.end(now);
  }

  async snapshot(): Promise<SessionSnapshot | null> {
    const { store, gateway, outbox } = this.parts;
    const row = store.row();
    if (!row) return null;
    return {
      session_id: row.session_id,
      created_at: row.created_at,
      ended_at: row.ended_at,
      total_distance: row.total_distance,
      event_count: row.event_count,
      last: row.last_t === null ? null : { x: row.last_x!, y: row.last_y!, t: row.last_t },
      viewers: gateway.count(),
      unflushed_events: row.event_count - 1 - row.flushed_seq,
      archived_at: row.archived_at,
      storage_bytes: store.events.databaseSize(),
      stored_bytes: row.stored_bytes,
      messages_sent: outbox.sent,
      batches: store.batches,
      rows_written: store.rowsWritten,
    };
  }

  /** GET /events: events with seq > after, in order; null when the session is unknown. */
  async events(after: number, limit: number): Promise<{ items: SequencedPoint[]; next_after: number | null } | null> {
    return this.parts.store.page(after, limit);
  }

  /** GET /stats: the stored events summed into buckets. */
  async stats(bucketSeconds: number, from: number | null, to: number | null, now = Date.now()): Promise<StatsAnswer> {
    return this.parts.store.stats(bucketSeconds, from, to, now);
  }

  /** Retention: the archive in R2, the object's storage and alarm, the sockets. */
  async purge(): Promise<void> {
    await this.parts.lifecycle.purge();
  }

  /** The WebSocket upgrade; the Worker has already checked the token (and says whether it is the session's own). */
  override async fetch(request: Request): Promise<Response> {
    const ctx = { instance: new URL(request.url).pathname };
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return problemResponse("upgrade_required", "Connect with 'Upgrade: websocket'.", ctx, {
        headers: { Upgrade: "websocket" },
      });
    }
    const row = this.parts.store.row();
    if (!row) return problemResponse("not_found", "No cursor session with that id.", ctx);
    if (row.ended_at !== null) return problemResponse("conflict", "The session has ended.", ctx);
    return this.parts.gateway.accept(request, helloOf(row)!);
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    await this.parts.gateway.message(ws, message);
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    this.parts.gateway.closed(ws, code, reason);
  }

  override async webSocketError(_ws: WebSocket, error: unknown): Promise<void> {
    this.parts.gateway.error(error);
  }

  override async alarm(): Promise<void> {
    await this.parts.lifecycle.alarm(Date.now());
  }
}

function helloOf(row: SessionRow | null): HelloFrame | null {
  if (!row) return null;
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
