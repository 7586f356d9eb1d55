import { describe, expect, it } from "vitest";
import {
  advance,
  INITIAL_STATE,
  MIN_SEGMENT_MS,
  overfullSecond,
  pathDistance,
  segmentLength,
  speed,
  sumBuckets,
} from "../../src/cursor/kinematics";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, on a 10 s boundary

describe("distance and speed", () => {
  it("(0,0), (3,4), (6,8) in a 10 s window: 10 px at 1.0 px/s", () => {
    const points = [
      { x: 0, y: 0 },
      { x: 3, y: 4 },
      { x: 6, y: 8 },
    ];
    expect(segmentLength(points[0]!, points[1]!)).toBe(5);
    expect(pathDistance(points)).toBe(10);
    expect(speed(pathDistance(points), 10_000)).toBe(1);
  });

  it("an empty window has speed 0, not NaN or Infinity", () => {
    expect(speed(10, 0)).toBe(0);
    expect(speed(0, 0)).toBe(0);
  });

  it("continues from the given previous point", () => {
    expect(pathDistance([{ x: 3, y: 4 }], { x: 0, y: 0 })).toBe(5);
    expect(pathDistance([])).toBe(0);
  });
});

describe("advance (one batch)", () => {
  it("the 10 px example, one second apart", () => {
    const r = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 },
      { x: 3, y: 4, t: T0 + 1000 },
      { x: 6, y: 8, t: T0 + 2000 },
    ]);
    expect(r.distance).toBe(10);
    expect(r.windowMs).toBe(2000);
    expect(r.speed).toBe(5);
    expect(r.state).toEqual({ totalDistance: 10, eventCount: 3, secondEvents: 1, last: { x: 6, y: 8, t: T0 + 2000 } });
  });

  it("a zero-length batch: one point, or the same point again, moves nothing", () => {
    const first = advance(INITIAL_STATE, [{ x: 50, y: 60, t: T0 }]);
    expect(first.distance).toBe(0);
    expect(first.speed).toBe(0);
    expect(first.windowMs).toBe(0);
    expect(first.state.eventCount).toBe(1);
    const again = advance(first.state, [
      { x: 50, y: 60, t: T0 + 100 },
      { x: 50, y: 60, t: T0 + 200 },
    ]);
    expect(again.distance).toBe(0);
    expect(again.speed).toBe(0);
    expect(again.windowMs).toBe(200);
    expect(again.state.totalDistance).toBe(0);
    expect(again.state).toMatchObject({ eventCount: 3, secondEvents: 3 });
  });

  it("a batch continues the previous batch's path, window and second; splitting a path changes nothing", () => {
    const one = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 + 100 },
      { x: 3, y: 4, t: T0 + 400 },
    ]);
    // Same second, continued: the segment from (3,4) to (6,8) belongs to this batch.
    const two = advance(one.state, [
      { x: 6, y: 8, t: T0 + 900 },
      { x: 6, y: 18, t: T0 + 1100 },
    ]);
    expect(two.distance).toBe(15);
    expect(two.windowMs).toBe(700); // from the previous last point (t0+400) to t0+1100
    expect(two.speed).toBeCloseTo(15 / 0.7);
    expect(two.state).toMatchObject({ totalDistance: 20, eventCount: 4, secondEvents: 1 });
    const whole = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 + 100 },
      { x: 3, y: 4, t: T0 + 400 },
      { x: 6, y: 8, t: T0 + 900 },
      { x: 6, y: 18, t: T0 + 1100 },
    ]);
    expect(whole.state).toEqual(two.state);
  });
});

describe("overfullSecond", () => {
  it("counts the session's last second and restarts at each new second", () => {
    const state = { ...INITIAL_STATE, last: { x: 0, y: 0, t: 1200 }, eventCount: 2, secondEvents: 2 };
    const events = [
      { x: 0, y: 0, t: 1500 },
      { x: 0, y: 0, t: 1600 },
      { x: 0, y: 0, t: 2000 },
    ];
    expect(overfullSecond(state, events, 3)).toBe(1);
    expect(overfullSecond(INITIAL_STATE, events, 2)).toBe(-1);
    expect(overfullSecond(INITIAL_STATE, events, 1)).toBe(1);
  });
});

describe("sumBuckets", () => {
  const seq = (points: { x: number; y: number; t: number }[]) => points.map((p, i) => ({ ...p, seq: i }));

  it("(0,0), (3,4), (6,8) one second apart in one 10 s bucket: 10 px, peak 5 px/s; 1 s buckets split it", () => {
    const points = seq([
      { x: 0, y: 0, t: T0 },
      { x: 3, y: 4, t: T0 + 1000 },
      { x: 6, y: 8, t: T0 + 2000 },
    ]);
    expect(sumBuckets(points, { bucketSeconds: 10, previous: null, distanceBefore: 0 })).toEqual([
      {
        bucket_start: T0 / 1000,
        distance: 10,
        peak_speed: 5,
        event_count: 3,
        start_x: 0,
        start_y: 0,
        end_x: 6,
        end_y: 8,
        last_seq: 2,
        total_distance: 10,
        last_t: T0 + 2000,
      },
    ]);
    // A segment counts towards the bucket of its end point.
    const seconds = sumBuckets(points, { bucketSeconds: 1, previous: null, distanceBefore: 0 });
    expect(seconds.map((b) => [b.bucket_start - T0 / 1000, b.distance, b.event_count, b.total_distance])).toEqual([
      [0, 0, 1, 0],
      [1, 5, 1, 5],
      [2, 5, 1, 10],
    ]);
  });

  it("continues from the point before, counts only [from, to), stops after maxBuckets", () => {
    const points = seq([
      { x: 0, y: 10, t: T0 + 500 },
      { x: 0, y: 20, t: T0 + 10_500 },
      { x: 0, y: 30, t: T0 + 20_500 },
      { x: 0, y: 40, t: T0 + 30_500 },
    ]);
    const previous = { x: 0, y: 0, t: T0 };
    const from = sumBuckets(points, { bucketSeconds: 10, previous, distanceBefore: 100, fromMs: T0 + 10_000 });
    expect(from.map((b) => [b.distance, b.total_distance, b.last_seq])).toEqual([
      [10, 120, 1],
      [10, 130, 2],
      [10, 140, 3],
    ]);
    const ranged = sumBuckets(points, { bucketSeconds: 10, previous, distanceBefore: 0, toMs: T0 + 20_500 });
    expect(ranged.map((b) => b.event_count)).toEqual([1, 1]);
    expect(ranged[0]!.distance).toBe(10);
    const first = sumBuckets(points, { bucketSeconds: 10, previous, distanceBefore: 0, maxBuckets: 2 });
    expect(first.map((b) => b.last_seq)).toEqual([0, 1]);
  });

  it("duplicate timestamps: distance counts, speeds stay finite", () => {
    const points = seq([
      { x: 0, y: 0, t: T0 },
      { x: 30, y: 40, t: T0 },
      { x: 30, y: 40, t: T0 },
    ]);
    const [bucket] = sumBuckets(points, { bucketSeconds: 1, previous: null, distanceBefore: 0 });
    expect(bucket!.distance).toBe(50);
    expect(bucket!.peak_speed).toBeCloseTo(50 / (MIN_SEGMENT_MS / 1000));
    expect(bucket!.event_count).toBe(3);
  });
});
