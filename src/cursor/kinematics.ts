/**
 * Pure cursor kinematics: no storage, no clock. The Durable Object feeds every batch through `advance()` together
 * with the state it kept from the batch before, so a path continues across batches (and across evictions, since that
 * state lives in SQLite).
 *
 * Units: CSS pixels, epoch milliseconds; speeds are pixels per second.
 */

export type Point = { x: number; y: number; t: number };
export type SequencedPoint = Point & { seq: number };

/** The running aggregate of one wall-clock second (`second` = floor(t / 1000)); cumulative within that second. */
export type SecondAggregate = {
  second: number;
  distance: number;
  peak_speed: number;
  event_count: number;
  start_x: number;
  start_y: number;
  end_x: number;
  end_y: number;
  /** Sequence number of the last event counted; orders overlapping writes of the same second. */
  last_seq: number;
};

export type KinematicState = {
  last: Point | null;
  totalDistance: number;
  eventCount: number;
  /** Sequence number the next event gets; seq is per session, from 0, gapless. */
  nextSeq: number;
  /** The second the last event fell into, still open: the next batch may add to it. */
  open: SecondAggregate | null;
};

export const INITIAL_STATE: KinematicState = { last: null, totalDistance: 0, eventCount: 0, nextSeq: 0, open: null };

/**
 * A segment's time is floored at one 60 Hz frame when its peak speed is measured: two samples with the same
 * timestamp (a browser can deliver them) must not produce an infinite speed.
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

export type BatchResult = {
  state: KinematicState;
  /** Distance covered by this batch, including the segment from the previous batch's last point. */
  distance: number;
  /** From the previous batch's last point (or this batch's first) to this batch's last point. */
  windowMs: number;
  speed: number;
  /** Every second this batch touched, as it stands after the batch (the last one may still be open). */
  seconds: SecondAggregate[];
};

/**
 * Continues the path with a batch of events already validated to be in time order and not before `state.last`.
 * A segment counts towards the second of its end point.
 */
export function advance(state: KinematicState, batch: readonly Point[]): BatchResult {
  let last = state.last;
  let open = state.open ? { ...state.open } : null;
  let nextSeq = state.nextSeq;
  let distance = 0;
  const seconds: SecondAggregate[] = [];

  for (const point of batch) {
    // The event's sequence number: the session numbers its events gaplessly from 0.
    const seq = nextSeq++;
    const length = last ? segmentLength(last, point) : 0;
    const segmentSpeed = last ? speed(length, Math.max(point.t - last.t, MIN_SEGMENT_MS)) : 0;
    distance += length;

    const second = Math.floor(point.t / 1000);
    if (!open || open.second !== second) {
      // A new second starts (the one before is complete and was already reported).
      open = {
        second,
        distance: 0,
        peak_speed: 0,
        event_count: 0,
        start_x: point.x,
        start_y: point.y,
        end_x: point.x,
        end_y: point.y,
        last_seq: seq,
      };
      seconds.push(open);
    } else if (seconds.at(-1) !== open) {
      // The batch continues the second the previous batch left open.
      seconds.push(open);
    }
    open.distance += length;
    open.peak_speed = Math.max(open.peak_speed, segmentSpeed);
    open.event_count += 1;
    open.end_x = point.x;
    open.end_y = point.y;
    open.last_seq = seq;
    last = { x: point.x, y: point.y, t: point.t };
  }

  const first = batch[0];
  const windowStart = state.last?.t ?? first?.t ?? 0;
  const windowMs = last && first ? last.t - windowStart : 0;
  return {
    state: {
      last,
      totalDistance: state.totalDistance + distance,
      eventCount: state.eventCount + batch.length,
      nextSeq,
      open,
    },
    distance,
    windowMs,
    speed: speed(distance, windowMs),
    seconds: seconds.map((s) => ({ ...s })),
  };
}
