import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { MAX_BLOCK_EVENTS } from "../../src/cursor/event-store";
import { MAX_BYTES_PER_EVENT } from "../../src/cursor/session-store";
import { pointer60, sparse } from "./helpers";

const T0 = 1_767_225_600_000; // 2026-01-01T00:00:00Z, on a 10 s boundary
const DAY = 86_400_000;

/** A fresh object created at t0 with these batches applied, each at its own last event's time (inside its life). */
async function objectWith(t0: number, batches: { x: number; y: number; t: number }[][]) {
  const id = crypto.randomUUID();
  const stub = cursorSessionStub(env, id);
  await stub.init(id, t0);
  const empty = (await stub.snapshot())!.storage_bytes;
  for (const batch of batches) expect(await stub.ingest(batch, batch.at(-1)!.t)).toMatchObject({ ok: true });
  return { stub, empty };
}

const blockRows = (stub: DurableObjectStub<CursorSession>) =>
  runInDurableObject(
    stub,
    (_i: CursorSession, state) => state.storage.sql.exec("SELECT count(*) AS n FROM blocks").one().n,
  );

/**
 * What the session stored, summed the plain way: per bucket of `seconds`, the segments ending in it, the fastest one
 * (its time floored at one 60 Hz frame), the events, the first and last point. The expected answer of GET /stats.
 */
function reference(events: { x: number; y: number; t: number }[], seconds: number) {
  const buckets = new Map<
    number,
    {
      distance: number;
      peak_speed: number;
      event_count: number;
      start_x: number;
      start_y: number;
      end_x: number;
      end_y: number;
    }
  >();
  events.forEach((e, i) => {
    const before = events[i - 1];
    const length = before ? Math.hypot(e.x - before.x, e.y - before.y) : 0;
    const speed = before ? length / (Math.max(e.t - before.t, 1000 / 60) / 1000) : 0;
    const start = Math.floor(e.t / 1000 / seconds) * seconds;
    const b = buckets.get(start) ?? {
      distance: 0,
      peak_speed: 0,
      event_count: 0,
      start_x: e.x,
      start_y: e.y,
      end_x: e.x,
      end_y: e.y,
    };
    b.distance += length;
    b.peak_speed = Math.max(b.peak_speed, speed);
    b.event_count += 1;
    b.end_x = e.x;
    b.end_y = e.y;
    buckets.set(start, b);
  });
  return [...buckets].map(([bucket_start, b]) => ({ bucket_start, ...b }));
}

function close(actual: Record<string, number>[], expected: Record<string, number>[]) {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    for (const [key, value] of Object.entries(expected[i]!)) expect(row[key], `${i}.${key}`).toBeCloseTo(value, 6);
  });
}

describe("the packed events: bytes and rows whatever the spacing", () => {
  it("a 60 Hz pointer: at most 16 bytes an event, 2 rows written a batch", async () => {
    const { events, batches } = pointer60(T0, 60);
    const { stub, empty } = await objectWith(T0, batches);
    const snapshot = (await stub.snapshot())!;
    const perEvent = (snapshot.storage_bytes - empty) / events.length;
    console.log(
      `CURSOR_FIGURE dense bytes/event ${perEvent.toFixed(2)} packed ${(snapshot.stored_bytes / events.length).toFixed(2)} rows/batch ${(snapshot.rows_written / snapshot.batches).toFixed(2)}`,
    );
    expect(perEvent).toBeLessThanOrEqual(MAX_BYTES_PER_EVENT);
    // The session row and the open block; a batch that starts a block also writes it and its index entry.
    expect(snapshot.rows_written / snapshot.batches).toBeLessThanOrEqual(2.2);
    expect(await blockRows(stub)).toBe(Math.ceil(events.length / MAX_BLOCK_EVENTS));
  }, 30_000);

  it("one event every 10 s across a whole day costs no more: at most 16 bytes an event, one row per block", async () => {
    const { events, batches } = sparse(T0, DAY / 10_000, 10_000);
    const { stub, empty } = await objectWith(T0, batches);
    const snapshot = (await stub.snapshot())!;
    const perEvent = (snapshot.storage_bytes - empty) / events.length;
    console.log(
      `CURSOR_FIGURE sparse bytes/event ${perEvent.toFixed(2)} packed ${(snapshot.stored_bytes / events.length).toFixed(2)}`,
    );
    expect(perEvent).toBeLessThanOrEqual(MAX_BYTES_PER_EVENT);
    expect(await blockRows(stub)).toBe(Math.ceil(events.length / MAX_BLOCK_EVENTS));
  }, 60_000);
});

describe("GET /events and /stats from the packed events", () => {
  for (const [name, t0, make] of [
    ["dense", T0, () => pointer60(T0, 30)],
    ["sparse", T0, () => sparse(T0, 2000, 10_000)],
    ["one repeated time", T0, () => sparse(T0 + 500, 700, 0)],
  ] as const) {
    it(`${name}: every event back exactly, and the buckets the plain sums give`, async () => {
      const { events, batches } = make();
      const { stub } = await objectWith(t0, batches);
      const seen = [];
      for (let after = -1; ; ) {
        const page = (await stub.events(after, 333))!;
        seen.push(...page.items);
        if (page.next_after === null) break;
        after = page.next_after;
      }
      expect(seen).toEqual(events.map((e, seq) => ({ seq, ...e })));
      const end = events.at(-1)!.t + 1;
      for (const seconds of [1, 10, 3600, 86_400]) {
        const answer = await stub.stats(seconds, null, null, end);
        if (!answer.ok) throw new Error(JSON.stringify(answer));
        const expected = reference(events, seconds);
        // Without `from`, the latest 1,000 buckets.
        close(
          answer.buckets,
          expected.slice(-1000).filter((b) => b.bucket_start * 1000 >= answer.from),
        );
      }
      // A range in the middle starts with the segment from the point before it.
      const middle = events[Math.floor(events.length / 2)]!.t;
      const from = Math.floor(middle / 10_000) * 10_000;
      const ranged = await stub.stats(10, from, from + 10_000, end);
      close(
        ranged.ok ? ranged.buckets : [],
        reference(events, 10).filter((b) => b.bucket_start * 1000 === from),
      );
    }, 30_000);
  }
});
