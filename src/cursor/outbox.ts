import { errorFields, log } from "../lib/log";
import type { EventStore, Rollup } from "./event-store";
import { CURSOR_ROLLUPS_TYPE, type CursorRollupsMessage, type RollupMessageItem } from "./protocol";

/**
 * The rollup outbox: what D1 has not been told yet is simply every stored second with last_seq > `flushed_seq`
 * (kept in the session row), so the outbox costs no rows of its own and survives any eviction. A flush sends the
 * 10-second rollups of those seconds in one queue message and then moves `flushed_seq`. A rollup is a whole bucket
 * with its `last_seq` as version, so a message sent twice (an eviction between send and the write of
 * `flushed_seq`, or a queue redelivery) changes nothing.
 *
 * Coalescing: at most one flush per interval (CURSOR_FLUSH_SECONDS), and a live session's flush carries one bucket
 * (the oldest pending), so a moving session costs at most one queue message and one D1 row per interval. More than
 * BACKLOG_BUCKETS pending (a client replaying history, or the end of a session) go together, up to 100 a message.
 */
export const DEFAULT_FLUSH_SECONDS = 2;
export const BACKLOG_BUCKETS = 3;
export const MAX_ROLLUPS_PER_MESSAGE = 100;

export function rollupItem(r: Rollup): RollupMessageItem {
  return {
    bucket_start: r.bucket_start,
    distance: r.distance,
    peak_speed: r.peak_speed,
    event_count: r.event_count,
    start_x: r.start_x,
    start_y: r.start_y,
    end_x: r.end_x,
    end_y: r.end_y,
    last_seq: r.last_seq,
    total_distance: r.total_distance,
    last_t: r.last_t,
  };
}

export type OutboxHost = {
  store: EventStore;
  sessionId(): string;
  flushedSeq(): number;
  /** Persists the new flushed_seq (one small UPDATE). */
  setFlushedSeq(seq: number): void;
  send(message: CursorRollupsMessage): Promise<void>;
  /** A send failed: make sure an alarm retries soon. */
  retryLater(): Promise<void>;
  /** Milliseconds between flushes. */
  intervalMs: number;
};

export class RollupOutbox {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Messages sent by this instance (for the benchmark's per-second figures). */
  sent = 0;

  constructor(private readonly host: OutboxHost) {}

  /** A batch was stored: flush once the interval since the last flush has passed. */
  schedule(): void {
    if (this.timer) return;
    // A timer starts with the first batch after a flush and fires an interval later: flushes are at least an
    // interval apart, and one message carries about a second of movement.
    const delay = this.host.intervalMs;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush(false);
      },
      Math.max(delay, 1),
    );
  }

  /**
   * Sends pending rollups: one bucket (or the backlog) when `all` is false, everything when true (session end,
   * alarm). False when a send failed; the alarm then retries.
   */
  flush(all: boolean, summary?: CursorRollupsMessage["summary"]): Promise<boolean> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One flush at a time: a second one runs after the first (and may find nothing left).
    const run = this.chain.then(() => this.flushNow(all, summary));
    this.chain = run.catch(() => false);
    return run;
  }

  private async flushNow(all: boolean, summary?: CursorRollupsMessage["summary"]): Promise<boolean> {
    try {
      for (;;) {
        const pending = this.host.store.rollupsAfter(this.host.flushedSeq(), MAX_ROLLUPS_PER_MESSAGE);
        const take = all || pending.length > BACKLOG_BUCKETS ? pending : pending.slice(0, 1);
        // The last message of this flush: more may follow only when sending everything and a full page was read.
        const last = !all || pending.length < MAX_ROLLUPS_PER_MESSAGE;
        const withSummary = summary !== undefined && last;
        if (take.length === 0 && !withSummary) return true;
        const lastSeq = take.at(-1)?.last_seq ?? this.host.flushedSeq();
        const message: CursorRollupsMessage = {
          type: CURSOR_ROLLUPS_TYPE,
          id: `${this.host.sessionId()}:${lastSeq}${withSummary ? ":end" : ""}`,
          session_id: this.host.sessionId(),
          rollups: take.map(rollupItem),
        };
        if (withSummary) message.summary = summary;
        await this.host.send(message);
        this.sent += 1;
        if (take.length > 0) this.host.setFlushedSeq(lastSeq);
        if (last) {
          if (pending.length > take.length) this.schedule();
          return true;
        }
      }
    } catch (error) {
      log("warn", "cursor rollups not yet queued; the alarm retries", errorFields(error));
      await this.host.retryLater();
      return false;
    }
  }

  /** True when stored seconds have not been sent yet. */
  pending(): boolean {
    return this.host.store.rollupsAfter(this.host.flushedSeq(), 1).length > 0;
  }
}
