import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { advance, INITIAL_STATE, type SecondAggregate } from "../../src/cursor/kinematics";
import { readBuckets } from "../../src/cursor/stats";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, on a 10 s boundary

/** Per-second rows into D1 as the analytics consumer stores them, so the SQL behind GET /stats runs on real data. */
async function store(sessionId: string, seconds: readonly SecondAggregate[]) {
  await env.DB.batch(
    seconds.map((s) =>
      env.DB.prepare(
        `INSERT INTO cursor_seconds (session_id, second, distance, peak_speed, event_count, start_x, start_y, end_x, end_y, last_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).bind(
        sessionId,
        s.second,
        s.distance,
        s.peak_speed,
        s.event_count,
        s.start_x,
        s.start_y,
        s.end_x,
        s.end_y,
        s.last_seq,
      ),
    ),
  );
}

describe("re-aggregating per-second rows (the stats query)", () => {
  it("gives the design's example: (0,0), (3,4), (6,8) one second apart in one 10 s bucket is 10 px at 1.0 px/s", async () => {
    const id = crypto.randomUUID();
    const r = advance(INITIAL_STATE, [
      { x: 0, y: 0, t: T0 },
      { x: 3, y: 4, t: T0 + 1000 },
      { x: 6, y: 8, t: T0 + 2000 },
    ]);
    await store(id, r.seconds);
    const buckets = await readBuckets(env.DB, id, 10, T0 / 1000, T0 / 1000 + 60);
    expect(buckets).toHaveLength(1);
    expect(buckets[0]).toMatchObject({ bucket_start: T0 / 1000, distance: 10, event_count: 3, start_x: 0, end_x: 6 });
    expect(buckets[0]!.distance / 10).toBe(1);
  });

  it("aligns buckets to the epoch, keeps each bucket's first start and last end point, and respects the range", async () => {
    const id = crypto.randomUUID();
    const base = T0 / 1000;
    const row = (second: number, distance: number, peak: number, sx: number, ex: number): SecondAggregate => ({
      second,
      distance,
      peak_speed: peak,
      event_count: 2,
      start_x: sx,
      start_y: 0,
      end_x: ex,
      end_y: 0,
      last_seq: 0,
    });
    // Stored out of order on purpose: the query orders by second.
    await store(id, [
      row(base + 9, 3, 9, 3, 4),
      row(base + 1, 5, 7, 1, 2),
      row(base + 10, 1, 1, 5, 6),
      row(base + 30, 2, 2, 7, 8),
    ]);
    expect(await readBuckets(env.DB, id, 10, base, base + 30)).toEqual([
      { bucket_start: base, distance: 8, peak_speed: 9, event_count: 4, start_x: 1, start_y: 0, end_x: 4, end_y: 0 },
      {
        bucket_start: base + 10,
        distance: 1,
        peak_speed: 1,
        event_count: 2,
        start_x: 5,
        start_y: 0,
        end_x: 6,
        end_y: 0,
      },
    ]);
    // Another session's rows never mix in.
    expect(await readBuckets(env.DB, crypto.randomUUID(), 10, base, base + 60)).toEqual([]);
  });
});
