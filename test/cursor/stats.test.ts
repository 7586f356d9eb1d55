import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { planStats } from "../../src/cursor/stats";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, on a 10 s boundary

/** A fresh object with these batches applied (each at its own last event's time, so no limit gets in the way). */
async function objectWith(batches: { x: number; y: number; t: number }[][]) {
  const id = crypto.randomUUID();
  const stub = cursorSessionStub(env, id);
  await stub.init(id, T0 - 1000);
  for (const batch of batches) expect((await stub.ingest(batch, batch.at(-1)!.t)).ok).toBe(true);
  return stub;
}

describe("re-aggregating per-second rows (the stats query, in the object's SQLite)", () => {
  it("gives the design's example: (0,0), (3,4), (6,8) one second apart in one 10 s bucket is 10 px at 1.0 px/s", async () => {
    const stub = await objectWith([
      [
        { x: 0, y: 0, t: T0 },
        { x: 3, y: 4, t: T0 + 1000 },
        { x: 6, y: 8, t: T0 + 2000 },
      ],
    ]);
    const answer = await stub.stats(10, T0, T0 + 60_000);
    expect(answer.ok && answer.buckets).toEqual([
      {
        bucket_start: T0 / 1000,
        distance: 10,
        peak_speed: 5,
        event_count: 3,
        start_x: 0,
        start_y: 0,
        end_x: 6,
        end_y: 8,
      },
    ]);
  });

  it("aligns buckets to the epoch, keeps each bucket's first start and last end point, and respects the range", async () => {
    const stub = await objectWith([
      [
        { x: 1, y: 0, t: T0 + 1000 },
        { x: 2, y: 0, t: T0 + 1500 },
      ],
      [
        { x: 3, y: 0, t: T0 + 9000 },
        { x: 4, y: 0, t: T0 + 9500 },
        { x: 5, y: 0, t: T0 + 10_000 },
      ],
      [{ x: 8, y: 0, t: T0 + 30_000 }],
    ]);
    const answer = await stub.stats(10, T0, T0 + 30_000);
    expect(
      answer.ok && answer.buckets.map((b) => [b.bucket_start, b.distance, b.event_count, b.start_x, b.end_x]),
    ).toEqual([
      [T0 / 1000, 3, 4, 1, 4],
      [T0 / 1000 + 10, 1, 1, 5, 5],
    ]);
    const all = await stub.stats(60, null, null, T0 + 31_000);
    expect(all.ok && all.buckets.map((b) => [b.event_count, b.distance])).toEqual([[6, 7]]);
    // The per-second rows hold the points packed: one row per second of event time.
    await runInDurableObject(stub, (_i: CursorSession, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM seconds").one().n).toBe(4);
    });
  });
});

describe("planStats", () => {
  const base = { createdAt: T0, span: { first: T0 / 1000, last: T0 / 1000 + 5 }, now: T0 + 10_000 };
  it("defaults to everything stored, ahead of the clock too", () => {
    const plan = planStats({
      ...base,
      bucketSeconds: 10,
      from: null,
      to: null,
      span: { first: T0 / 1000, last: T0 / 1000 + 50 },
    });
    expect(plan).toMatchObject({ ok: true, from: T0, to: T0 + 51_000 });
  });
  it("keeps to the latest 1,000 buckets without from, and refuses more with one", () => {
    const now = T0 + 5_000_000;
    expect(planStats({ ...base, now, bucketSeconds: 1, from: null, to: null })).toMatchObject({
      ok: true,
      from: now - 1_000_000,
    });
    expect(planStats({ ...base, now, bucketSeconds: 1, from: T0, to: null })).toMatchObject({
      ok: false,
      path: "bucket",
    });
    expect(planStats({ ...base, bucketSeconds: 1, from: T0, to: T0 })).toMatchObject({ ok: false, path: "to" });
  });
});
