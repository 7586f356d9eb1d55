import { errorFields, log } from "../lib/log";
import { archiveKey, writeArchive } from "./archive";
import { RollupOutbox } from "./outbox";
import type { CursorRollupsMessage, IngestResult } from "./protocol";
import type { Sequencer } from "./sequencer";
import type { SessionStore } from "./session-store";
import type { SocketGateway } from "./socket-gateway";

/** A failed queue send or archive write (or a flush that left more pending) is retried by the alarm this soon. */
export const RETRY_MS = 2_000;
/**
 * Set when a batch lands and no alarm is due sooner (setAlarm is a storage write, so not once per batch): if the
 * flush after it never happens (eviction, a failed send), this alarm sends what is pending.
 */
export const SAFETY_ALARM_MS = 5_000;

export type LifecycleDeps = {
  storage: DurableObjectStorage;
  store: SessionStore;
  gateway: SocketGateway;
  sequencer: Sequencer<IngestResult>;
  /** The telemetry queue the rollups go to. */
  queue: Pick<Queue<CursorRollupsMessage>, "send">;
  /** The R2 bucket for archives (absent: none are written). */
  archive: R2Bucket | undefined;
  /** A session with no events for this long ends itself (CURSOR_IDLE_MINUTES). */
  idleMs: number;
  /** A moving session's rollups go out this often (CURSOR_FLUSH_SECONDS). */
  flushMs: number;
};

/**
 * The session's life after its batches: one alarm serves three jobs (the safety net after a batch, retries of a
 * failed send or archive write, and the idle rule), the rollups (its outbox, which the alarm retries), the end
 * (final rollups with the totals, then the archive to R2, each retried by the alarm until done), and the purge at
 * retention.
 */
export class Lifecycle {
  readonly outbox: RollupOutbox;
  /** When the pending alarm fires, as far as this instance knows (null: not known, e.g. after an eviction). */
  private alarmAt: number | null = null;

  constructor(private readonly deps: LifecycleDeps) {
    this.outbox = new RollupOutbox({
      store: deps.store,
      send: async (message) => {
        await deps.queue.send(message, { contentType: "json" });
      },
      retryLater: () => this.retrySoon(),
      intervalMs: deps.flushMs,
    });
  }

  /** A new session: the idle rule ends it if nobody uses it. */
  start(createdAt: number): Promise<void> {
    return this.armAlarm(createdAt + this.deps.idleMs);
  }

  /** A batch was stored: rollups on their interval, and an alarm in case that flush never happens. */
  afterBatch(now: number): void {
    if (this.alarmAt === null || this.alarmAt > now + SAFETY_ALARM_MS) {
      // Only when no alarm is due soon: setAlarm is a storage write. (The idle alarm, far out, is brought forward
      // here and set again after.)
      this.alarmAt = now + SAFETY_ALARM_MS;
      void this.deps.storage.setAlarm(this.alarmAt);
    }
    this.outbox.schedule();
  }

  retrySoon(): Promise<void> {
    this.alarmAt = Date.now() + RETRY_MS;
    return this.deps.storage.setAlarm(this.alarmAt);
  }

  /**
   * Ends the session: tells every viewer, closes the sockets, refuses further events, sends the last rollups with the
   * final totals and archives the events to R2. What fails is retried by the alarm.
   */
  async end(now: number): Promise<{ found: boolean; ended_at: number | null }> {
    const { store, sequencer, gateway } = this.deps;
    const row = store.row();
    if (!row) return { found: false, ended_at: null };
    const endedAt = row.ended_at ?? now;
    if (row.ended_at === null) store.update({ ended_at: endedAt });
    sequencer.cancelAll({ ok: false, code: "ended" });
    gateway.broadcast({ type: "ended", t: endedAt });
    gateway.closeAll(1000, "session ended");
    await this.finish();
    return { found: true, ended_at: endedAt };
  }

  /**
   * Sends what a failed send or an eviction left pending, finishes an ended session (final rollups, archive), and
   * applies the idle rule. Then the alarm is set again.
   */
  async alarm(now: number): Promise<void> {
    this.alarmAt = null;
    const row = this.deps.store.row();
    if (!row) return;
    if (row.ended_at !== null) {
      await this.finish();
      return;
    }
    const done = await this.outbox.flush(true);
    const idleAt = row.last_active_at + this.deps.idleMs;
    if (now >= idleAt) {
      log("info", "cursor session idle; ended", { session_id: row.session_id, idle_ms: now - row.last_active_at });
      await this.end(now);
      return;
    }
    await this.armAlarm(done ? idleAt : Math.min(idleAt, now + RETRY_MS));
  }

  /**
   * Retention: everything this session stored goes: its archive in R2, then the object's SQLite and alarm
   * (`deleteAll`); sockets are closed first.
   */
  async purge(): Promise<void> {
    const { store, gateway, storage, archive } = this.deps;
    const row = store.row();
    gateway.closeAll(1000, "session deleted");
    if (row && archive) await archive.delete(archiveKey(row.session_id, row.created_at));
    await storage.deleteAlarm();
    await storage.deleteAll();
    store.forget();
    this.alarmAt = null;
  }

  /** After the end: the final rollups and summary once, then the archive once. */
  private async finish(): Promise<void> {
    const { store, archive } = this.deps;
    const { outbox } = this;
    const row = store.row();
    if (!row || row.ended_at === null) return;
    if (!row.end_sent) {
      const sent = await outbox.flush(true, {
        event_count: row.event_count,
        total_distance: row.total_distance,
        last_event_at: row.last_t,
        ended_at: row.ended_at,
      });
      if (!sent) return;
      store.update({ end_sent: 1 });
    }
    if (row.archived_at !== null || !archive) return;
    try {
      await writeArchive(archive, store.events, {
        session_id: row.session_id,
        created_at: row.created_at,
        ended_at: row.ended_at,
        event_count: row.event_count,
      });
      store.update({ archived_at: Date.now() });
    } catch (error) {
      log("warn", "cursor archive not written; the alarm retries", {
        session_id: row.session_id,
        ...errorFields(error),
      });
      await this.retrySoon();
    }
  }

  /** Sets the alarm to `at` unless one is already due sooner. */
  private async armAlarm(at: number): Promise<void> {
    if (this.alarmAt === null) this.alarmAt = await this.deps.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt <= at && this.alarmAt > Date.now()) return;
    this.alarmAt = at;
    await this.deps.storage.setAlarm(at);
  }
}
