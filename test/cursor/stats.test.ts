import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { planStats } from "../../src/cursor/stats";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, on a 10 s boundary

/** A fresh object with these batches applied (each at its own last event's time: inside the session's life). */
async function objectWith(batches: { x: number; y: number; t: number }[][]) {
  const id = crypto.randomUUID();
  const stub = cursorSessionStub(env, id);
  await stub.init(id, T0 - 1000);
  for (const batch of batches) expect((await stub.ingest(batch, batch.at(-1)!.t)).ok).toBe(true);
  return stub;
}

describe("GET /stats in the object: its events summed into buckets", () => {
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
    // The events are packed in one block, however many seconds they span.
    await runInDurableObject(stub, (_i: CursorSession, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM blocks").one().n).toBe(1);
    });
  });

  it("without from, the latest 1,000 buckets; events ahead of the clock are in the default range", async () => {
    const later = T0 + 2 * 3_600_000;
    const stub = await objectWith([
      [
        { x: 0, y: 0, t: T0 },
        { x: 0, y: 9, t: T0 + 500 },
      ],
      [
        { x: 0, y: 10, t: later },
        { x: 0, y: 20, t: later + 500 },
      ],
    ]);
    const all = await stub.stats(60, null, null, later - 30_000);
    expect(all.ok && all.buckets.reduce((n, b) => n + b.event_count, 0)).toBe(4);
    expect(all.ok && all.to).toBeGreaterThan(later + 500);
    // 1 s buckets over two hours would be 7,200: the latest 1,000 are answered instead.
    const latest = await stub.stats(1, null, null, later);
    expect(latest.ok && latest.buckets.map((b) => [b.event_count, b.distance])).toEqual([[2, 11]]);
    expect(latest.ok && latest.to - latest.from).toBeLessThanOrEqual(1_000_000);
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
