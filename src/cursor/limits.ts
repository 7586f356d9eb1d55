import { type SettingsSource, settings } from "../lib/settings";
import type { Point, SecondAggregate } from "./kinematics";

/**
 * Ingestion limits of one cursor session (issue 13): none of them is ever met by the page (60 Hz is 60 events a
 * second), all of them stop a client that tries to fill storage. Read from `[vars]` once per object instance.
 */
export type CursorLimits = {
  /** Token bucket on wall time: events per second refilled, and the bucket's size. */
  eventsPerSecond: number;
  burstEvents: number;
  /** Events whose `t` falls within one second of event time (equal-time floods). */
  eventsPerEventSecond: number;
  /** Events one session stores in total; then 409 "start a new session". */
  eventsPerSession: number;
  /** A session with no events for this long ends itself (alarm) and closes its sockets. */
  idleMs: number;
  /** Rollups go to the telemetry queue at most this often (CURSOR_FLUSH_SECONDS). */
  flushMs: number;
};

export const DEFAULT_LIMITS: CursorLimits = {
  eventsPerSecond: 500,
  burstEvents: 2_000,
  eventsPerEventSecond: 1_000,
  eventsPerSession: 500_000,
  idleMs: 30 * 60_000,
  flushMs: 2_000,
};

export function cursorLimits(env: SettingsSource): CursorLimits {
  const s = settings(env);
  return {
    eventsPerSecond: s.cursorMaxEventsPerSecond,
    burstEvents: s.cursorMaxEventsBurst,
    eventsPerEventSecond: s.cursorMaxEventsPerEventSecond,
    eventsPerSession: s.cursorMaxEventsPerSession,
    idleMs: s.cursorIdleMinutes * 60_000,
    flushMs: s.cursorFlushSeconds * 1000,
  };
}

/**
 * A token bucket on wall-clock time, kept in the object's memory. An eviction refills it, which gives nothing away:
 * an object is only evicted after seconds without requests, by which time the bucket would have refilled anyway.
 */
export class TokenBucket {
  private tokens: number;
  private at: number | null = null;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  private refill(now: number): void {
    if (this.at !== null && now > this.at)
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) * this.rate) / 1000);
    if (this.at === null || now > this.at) this.at = now;
  }

  /** Seconds until `n` tokens are there (0: they are now). Takes nothing. */
  wait(n: number, now: number): number {
    this.refill(now);
    if (n > this.burst) return Number.POSITIVE_INFINITY;
    return this.tokens >= n ? 0 : Math.ceil((n - this.tokens) / this.rate);
  }

  take(n: number, now: number): void {
    this.refill(now);
    this.tokens -= n;
  }
}

/**
 * The index of the first event that would make its second of event time hold more than `cap` events, counting what
 * the session's still-open second already holds; -1 when the batch fits. Events are already in time order.
 */
export function overfullSecond(open: SecondAggregate | null, events: readonly Point[], cap: number): number {
  let second = open?.second ?? Number.NaN;
  let count = open?.event_count ?? 0;
  for (let i = 0; i < events.length; i++) {
    const s = Math.floor(events[i]!.t / 1000);
    if (s !== second) {
      second = s;
      count = 0;
    }
    count += 1;
    if (count > cap) return i;
  }
  return -1;
}
