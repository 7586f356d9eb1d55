import { errorFields, log } from "../lib/log";
import { CURSOR_ROLLUPS_TYPE, type CursorRollupsMessage, MAX_ROLLUPS_PER_MESSAGE, type Rollup } from "./protocol";
import type { SessionRow, SessionStore } from "./session-store";

/**
 * The rollup outbox: what D1 has not been told yet is simply every stored event with seq > `flushed_seq` (kept in the
 * session row), so the outbox costs no rows of its own and survives any eviction. A flush sends the 10-second
 * rollups of the buckets holding those events and then moves `flushed_seq`. A rollup is a whole bucket with its
 * `last_seq` as version, so a message sent twice (an eviction between the send and the write of `flushed_seq`, or a
 * queue redelivery) changes nothing.
 *
 * Coalescing: a live session flushes at most once per interval (CURSOR_FLUSH_SECONDS), one message carrying one
 * bucket (the oldest pending), so a moving session costs at most one queue message and one D1 row per interval. More
 * than BACKLOG_BUCKETS pending (a client replaying history) go together, up to MAX_ROLLUPS_PER_MESSAGE a message. A
 * flush of everything (the alarm, the session's end) sends at most MAX_MESSAGES_PER_FLUSH messages; what is left goes
 * on the next alarm.
 *
 * D1 gets at most MAX_ROLLUPS_PER_SESSION buckets of a session (a quarter of an hour of 10-second buckets with
 * movement), and the queue at most MAX_MESSAGES_PER_SESSION messages of it (a moving session sends about five per
 * bucket, so a page meets the bucket cap first): what comes later stays in the object (its /stats) and is not
 * sent; the end summary still is, as one message more.
 */
export const BACKLOG_BUCKETS = 3;
export const MAX_MESSAGES_PER_FLUSH = 5;
export const MAX_ROLLUPS_PER_SESSION = 90;
export const MAX_MESSAGES_PER_SESSION = 1_000;

type Summary = NonNullable<CursorRollupsMessage["summary"]>;

export type OutboxDeps = {
  store: SessionStore;
  send(message: CursorRollupsMessage): Promise<void>;
  /** A send failed or more is pending than one flush sends: make sure an alarm comes round soon. */
  retryLater(): Promise<void>;
  /** Milliseconds between a live session's flushes. */
  intervalMs: number;
};

export class RollupOutbox {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  /** Messages sent by this instance (for the benchmark's per-second figures). */
  sent = 0;

  constructor(private readonly deps: OutboxDeps) {}

  /** A batch was stored: flush once the interval since the last flush has passed. */
  schedule(): void {
    if (this.timer) return;
    // A timer starts with the first batch after a flush and fires an interval later: flushes are at least an
    // interval apart, and one message carries an interval's movement.
    this.timer = setTimeout(
      () => {
        this.timer = null;
        void this.flush(false);
      },
      Math.max(this.deps.intervalMs, 1),
    );
  }

  /**
   * Sends pending rollups: one message (one bucket, or the backlog) when `all` is false; when true (alarm, session
   * end) up to MAX_MESSAGES_PER_FLUSH messages, the summary with the last. True when nothing is left to send (and the
   * summary went); false when a send failed or more is left, and an alarm then comes round soon.
   */
  flush(all: boolean, summary?: Summary): Promise<boolean> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // One flush at a time: a second one runs after the first (and may find nothing left).
    const run = this.chain.then(() => this.flushNow(all, summary));
    this.chain = run.catch(() => false);
    return run;
  }

  private async flushNow(all: boolean, summary?: Summary): Promise<boolean> {
    const { store } = this.deps;
    try {
      for (let page = 0; page < MAX_MESSAGES_PER_FLUSH; page++) {
        const row = store.row();
        if (!row) return true;
        const { take, told, more } = this.nextPage(row, all);
        // Nothing pending beyond this page: the summary rides on it.
        const withSummary = summary !== undefined && !more;
        if (told === row.flushed_seq && !withSummary) return true;
        const capped = withinCap(take, row);
        if (capped.rollups.length > 0 || withSummary) {
          const message: CursorRollupsMessage = {
            type: CURSOR_ROLLUPS_TYPE,
            id: `${row.session_id}:${told}${withSummary ? ":end" : ""}`,
            session_id: row.session_id,
            rollups: capped.rollups,
          };
          if (withSummary) message.summary = summary;
          await this.deps.send(message);
          this.sent += 1;
          store.update({ messages_sent: row.messages_sent + 1 });
        }
        if (told !== row.flushed_seq) {
          store.update({ flushed_seq: told, rollups_sent: capped.sent, last_rollup: capped.lastRollup });
        }
        if (!more) return true;
        if (!all) {
          this.schedule();
          return true;
        }
      }
      // Everything was asked for, and more is pending than one flush sends.
      await this.deps.retryLater();
      return false;
    } catch (error) {
      log("warn", "cursor rollups not yet queued; the alarm retries", errorFields(error));
      await this.deps.retryLater();
      return false;
    }
  }

  /**
   * One message's worth of what D1 has not been told: the rollups to send (oldest first), the seq they settle, and
   * whether more is pending after them. Once D1 holds MAX_ROLLUPS_PER_SESSION buckets of the session, only the newest
   * of them may still grow; once MAX_MESSAGES_PER_SESSION were sent, nothing. Whatever is not sent is settled
   * without being read.
   */
  private nextPage(row: SessionRow, all: boolean): { take: Rollup[]; told: number; more: boolean } {
    const { events } = this.deps.store;
    if (row.messages_sent >= MAX_MESSAGES_PER_SESSION) return { take: [], told: row.event_count - 1, more: false };
    if (row.rollups_sent >= MAX_ROLLUPS_PER_SESSION) {
      const [first] = events.rollupsAfter(row.flushed_seq, 1);
      return { take: first?.bucket_start === row.last_rollup ? [first] : [], told: row.event_count - 1, more: false };
    }
    const pending = events.rollupsAfter(row.flushed_seq, MAX_ROLLUPS_PER_MESSAGE);
    const take = all || pending.length > BACKLOG_BUCKETS ? pending : pending.slice(0, 1);
    return {
      take,
      told: take.at(-1)?.last_seq ?? row.flushed_seq,
      more: take.length < pending.length || pending.length === MAX_ROLLUPS_PER_MESSAGE,
    };
  }
}

/** The rollups D1 takes: updates of buckets already sent, and new buckets while fewer than the cap were sent. */
function withinCap(take: Rollup[], row: SessionRow): { rollups: Rollup[]; sent: number; lastRollup: number | null } {
  let sent = row.rollups_sent;
  let lastRollup = row.last_rollup;
  const rollups = take.filter((r) => {
    if (lastRollup !== null && r.bucket_start <= lastRollup) return true;
    if (sent >= MAX_ROLLUPS_PER_SESSION) return false;
    sent += 1;
    lastRollup = r.bucket_start;
    return true;
  });
  return { rollups, sent, lastRollup };
}
