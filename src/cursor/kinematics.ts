import type { Rollup } from "./protocol";

/**
 * Pure cursor kinematics: no storage, no clock. The Durable Object feeds every batch through `advance()` together
 * with the state it kept from the batch before, so a path continues across batches (and across evictions, since that
 * state lives in SQLite); `sumBuckets()` sums stored events into buckets for GET /stats and the D1 rollups.
 *
 * Units: CSS pixels, epoch milliseconds; speeds are pixels per second.
 */

export type Point = { x: number; y: number; t: number };
export type SequencedPoint = Point & { seq: number };

export type KinematicState = {
  last: Point | null;
  /** The running distance: each segment added in order, so any stored prefix sums to the same number. */
  totalDistance: number;
  /** Events so far; seq is per session, from 0, gapless, so this is also the seq the next event gets. */
  eventCount: number;
  /** Events in the second of event time `last` falls into (the cap on equal-time floods counts them). */
  secondEvents: number;
};

export const INITIAL_STATE: KinematicState = { last: null, totalDistance: 0, eventCount: 0, secondEvents: 0 };

/**
 * A segment's time is floored at one 60 Hz frame when its speed is measured: two samples with the same timestamp
 * (a browser can deliver them) must not produce an infinite speed.
 */
export const MIN_SEGMENT_MS = 1000 / 60;

export function segmentLength(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(b.x - a.x, b.y - a.y);
}

/** Sum of the Euclidean segment lengths, starting from `from` (the previous batch's last point) when given. */
export function pathDistance(points: readonly { x: number; y: number }[], from?: { x: number; y: number } | null) {
  let distance = 0;
  let previous = from ?? null;
  for (const point of points) {
    if (previous) distance += segmentLength(previous, point);
    previous = point;
  }
  return distance;
}

/** Distance over a window, in px/s; 0 for an empty window (a single point, or only duplicate timestamps). */
export function speed(distance: number, windowMs: number): number {
  return windowMs > 0 ? distance / (windowMs / 1000) : 0;
}

const secondOf = (t: number) => Math.floor(t / 1000);

export type BatchResult = {
  state: KinematicState;
  /** Distance covered by this batch, including the segment from the previous batch's last point. */
  distance: number;
  /** From the previous batch's last point (or this batch's first) to this batch's last point. */
  windowMs: number;
  speed: number;
};

/** Continues the path with a batch of events already validated to be in time order and not before `state.last`. */
export function advance(state: KinematicState, batch: readonly Point[]): BatchResult {
  let { last, totalDistance, secondEvents } = state;
  let distance = 0;
  for (const point of batch) {
    const length = last ? segmentLength(last, point) : 0;
    distance += length;
    totalDistance += length;
    secondEvents = last && secondOf(last.t) === secondOf(point.t) ? secondEvents + 1 : 1;
    last = { x: point.x, y: point.y, t: point.t };
  }
  const first = batch[0];
  const windowStart = state.last?.t ?? first?.t ?? 0;
  const windowMs = last && first ? last.t - windowStart : 0;
  return {
    state: { last, totalDistance, eventCount: state.eventCount + batch.length, secondEvents },
    distance,
    windowMs,
    speed: speed(distance, windowMs),
  };
}

/**
 * The index of the first event that would make its second of event time hold more than `cap` events, counting what
 * the session's last second already holds; -1 when the batch fits. Events are already in time order.
 */
export function overfullSecond(state: KinematicState, events: readonly Point[], cap: number): number {
  let second = state.last ? secondOf(state.last.t) : Number.NaN;
  let count = state.last ? state.secondEvents : 0;
  for (let i = 0; i < events.length; i++) {
    const s = secondOf(events[i]!.t);
    if (s !== second) {
      second = s;
      count = 0;
    }
    count += 1;
    if (count > cap) return i;
  }
  return -1;
}

export type BucketOptions = {
  bucketSeconds: number;
  /** The point before the first event given (its segment starts there), and the running distance at that point. */
  previous: Point | null;
  distanceBefore: number;
  /** Only events with fromMs <= t < toMs are counted; earlier ones only carry the path along. */
  fromMs?: number;
  toMs?: number;
  /** Stop once this many buckets are complete. */
  maxBuckets?: number;
};

/**
 * Sums events (in seq order) into buckets aligned to the epoch: a segment counts towards the bucket of its end point;
 * peak speed is the fastest single segment (its time floored at MIN_SEGMENT_MS). Each bucket also carries the seq
 * and time of its last event and the session's running distance there, which is what makes it a versioned rollup.
 * Empty buckets are absent. Reads the iterable lazily and stops at `toMs` or `maxBuckets`.
 */
export function sumBuckets(events: Iterable<SequencedPoint>, options: BucketOptions): Rollup[] {
  const bucketMs = options.bucketSeconds * 1000;
  const fromMs = options.fromMs ?? Number.NEGATIVE_INFINITY;
  const toMs = options.toMs ?? Number.POSITIVE_INFINITY;
  const out: Rollup[] = [];
  let previous = options.previous;
  let total = options.distanceBefore;
  for (const e of events) {
    if (e.t >= toMs) break;
    const length = previous ? segmentLength(previous, e) : 0;
    const segmentSpeed = previous ? speed(length, Math.max(e.t - previous.t, MIN_SEGMENT_MS)) : 0;
    total += length;
    previous = e;
    if (e.t < fromMs) continue;
    const start = Math.floor(e.t / bucketMs) * options.bucketSeconds;
    let bucket = out.at(-1);
    if (!bucket || bucket.bucket_start !== start) {
      if (options.maxBuckets !== undefined && out.length >= options.maxBuckets) break;
      bucket = {
        bucket_start: start,
        distance: 0,
        peak_speed: 0,
        event_count: 0,
        start_x: e.x,
        start_y: e.y,
        end_x: e.x,
        end_y: e.y,
        last_seq: e.seq,
        total_distance: total,
        last_t: e.t,
      };
      out.push(bucket);
    }
    bucket.distance += length;
    bucket.peak_speed = Math.max(bucket.peak_speed, segmentSpeed);
    bucket.event_count += 1;
    bucket.end_x = e.x;
    bucket.end_y = e.y;
    bucket.last_seq = e.seq;
    bucket.total_distance = total;
    bucket.last_t = e.t;
  }
  return out;
}
