import { describe, expect, it } from "vitest";
import {
  advance,
  INITIAL_STATE,
  MIN_SEGMENT_MS,
  pathDistance,
  segmentLength,
  speed,
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
    expect(r.state).toMatchObject({ totalDistance: 10, eventCount: 3, nextSeq: 3, last: { x: 6, y: 8, t: T0 + 2000 } });
    // A segment counts towards the second of its end point.
    expect(r.seconds.map((s) => [s.second, s.distance, s.event_count, s.peak_speed])).toEqual([
      [T0 / 1000, 0, 1, 0],
      [T0 / 1000 + 1, 5, 1, 5],
      [T0 / 1000 + 2, 5, 1, 5],
    ]);
    // One 10 s window: distance 10 px, speed 1.0 px/s (the stats route's SQL is tested in test/cursor/stats.test.ts).
    expect(r.seconds.reduce((sum, s) => sum + s.distance, 0) / 10).toBe(1);
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
    expect(again.state.eventCount).toBe(3);
  });

  it("duplicate timestamps: distance counts, speeds stay finite", () => {
    const r = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 },
      { x: 30, y: 40, t: T0 },
      { x: 30, y: 40, t: T0 },
    ]);
    expect(r.distance).toBe(50);
    expect(r.windowMs).toBe(0);
    expect(r.speed).toBe(0);
    expect(r.seconds).toHaveLength(1);
    expect(r.seconds[0]!.peak_speed).toBeCloseTo(50 / (MIN_SEGMENT_MS / 1000));
    expect(Number.isFinite(r.seconds[0]!.peak_speed)).toBe(true);
    expect(r.seconds[0]!.event_count).toBe(3);
  });

  it("a batch continues the previous batch's path, window and open second", () => {
    const one = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 + 100 },
      { x: 3, y: 4, t: T0 + 400 },
    ]);
    expect(one.seconds).toHaveLength(1);
    expect(one.state.open).toMatchObject({ second: T0 / 1000, distance: 5, event_count: 2, last_seq: 1 });

    // Same second, continued: the segment from (3,4) to (6,8) belongs to this batch.
    const two = advance(one.state, [
      { x: 6, y: 8, t: T0 + 900 },
      { x: 6, y: 18, t: T0 + 1100 },
    ]);
    expect(two.distance).toBe(15);
    expect(two.windowMs).toBe(700); // from the previous last point (t0+400) to t0+1100
    expect(two.speed).toBeCloseTo(15 / 0.7);
    expect(two.state.totalDistance).toBe(20);
    expect(two.state.nextSeq).toBe(4);
    // The open second is reported again, cumulatively, with a newer last_seq; then the next second starts.
    expect(two.seconds.map((s) => [s.second, s.distance, s.event_count, s.last_seq, s.start_x, s.end_y])).toEqual([
      [T0 / 1000, 10, 3, 2, 0, 8],
      [T0 / 1000 + 1, 10, 1, 3, 6, 18],
    ]);
    // The earlier report of that second is left untouched (the caller's copy must not be mutated).
    expect(one.seconds[0]).toMatchObject({ distance: 5, last_seq: 1 });

    // Splitting a path anywhere gives the same totals as one batch.
    const whole = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 + 100 },
      { x: 3, y: 4, t: T0 + 400 },
      { x: 6, y: 8, t: T0 + 900 },
      { x: 6, y: 18, t: T0 + 1100 },
    ]);
    expect(whole.state).toEqual(two.state);
    expect(whole.seconds).toEqual(two.seconds);
  });
});
