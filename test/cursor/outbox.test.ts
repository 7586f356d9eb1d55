import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { type CursorSession, cursorSessionStub, sessionParts } from "../../src/cursor/cursor-session";
import { ROLLUP_SECONDS } from "../../src/cursor/event-store";
import { MAX_MESSAGES_PER_FLUSH, MAX_MESSAGES_PER_SESSION, MAX_ROLLUPS_PER_SESSION } from "../../src/cursor/outbox";
import { CLOCK_SKEW_MS, MAX_ROLLUPS_PER_MESSAGE } from "../../src/cursor/protocol";
import {
  allEvents,
  createSession,
  pointer60,
  queueDown,
  queueKept,
  settingsWith,
  sparse,
  waitForStoredEvents,
} from "./helpers";

const rollupRows = (id: string) =>
  env.DB.prepare(
    "SELECT bucket_start, event_count, distance, last_seq FROM cursor_rollups WHERE session_id = ? ORDER BY bucket_start",
  )
    .bind(id)
    .all<{ bucket_start: number; event_count: number; distance: number; last_seq: number }>()
    .then((r) => r.results);

/** D1's rollups of a session against the object's own 10-second buckets (its GET /stats), bucket by bucket. */
async function rollupsMatchObject(id: string) {
  const stub = cursorSessionStub(env, id);
  const answer = await stub.stats(ROLLUP_SECONDS, null, null);
  if (!answer.ok) throw new Error(JSON.stringify(answer));
  const d1 = await rollupRows(id);
  expect(d1.map((r) => [r.bucket_start, r.event_count, Math.round(r.distance * 1e6)])).toEqual(
    answer.buckets.map((b) => [b.bucket_start, b.event_count, Math.round(b.distance * 1e6)]),
  );
}

/** A session whose object sends to `queue`; the parts work on the object's own storage, as the object's would. */
function withQueue(state: DurableObjectState, queue: { send: (m: never) => Promise<unknown> }) {
  return sessionParts(state, { queue: queue as unknown as Queue, archive: env.ARCHIVE, settings: settingsWith() });
}

describe("the pipeline under eviction and redelivery", () => {
  it("object evicted between batches: every event once, in order; D1 rollups equal the object's buckets", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const { events, batches } = pointer60(s.server_time - 20_000, 12);
    for (let i = 0; i < batches.length; i++) {
      const res = await stub.ingest(batches[i]!, s.server_time, i === 0 ? 0 : undefined);
      expect(res.ok).toBe(true);
      if (i % 20 === 7) await evictDurableObject(stub);
    }
    expect(await allEvents(s.id, s.token, 100)).toEqual(events.map((e, seq) => ({ seq, ...e })));
    await vi.waitFor(async () => expect((await stub.snapshot())?.unflushed_events).toBe(0), { timeout: 10_000 });
    expect(await waitForStoredEvents(s.id, events.length)).toBe(events.length);
    await rollupsMatchObject(s.id);
  }, 30_000);

  it("queue send failing, the object evicted, the consumer redelivering: nothing lost or doubled", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const { events, batches } = pointer60(s.server_time - 30_000, 3);
    const down = queueDown();
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const parts = withQueue(state, down);
      for (const batch of batches) expect((await parts.ingest(batch, s.server_time)).ok).toBe(true);
      await parts.outbox.flush(true);
      expect(down.attempts).toBe(1);
    });
    // Evicted with everything unsent: the new instance (with the real queue) sends it from storage on its alarm.
    await evictDurableObject(stub);
    expect((await stub.snapshot())?.unflushed_events).toBe(events.length);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.unflushed_events).toBe(0);
    expect(await waitForStoredEvents(s.id, events.length)).toBe(events.length);
    // A redelivery of everything (the consumer is at-least-once): the same rows again change nothing.
    const before = await rollupRows(s.id);
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const parts = withQueue(state, env.TELEMETRY_QUEUE);
      parts.store.update({ flushed_seq: -1, rollups_sent: 0, last_rollup: null });
      expect(await parts.outbox.flush(true)).toBe(true);
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await rollupRows(s.id)).toEqual(before);
    await rollupsMatchObject(s.id);
  }, 20_000);
});

describe("what one session sends to D1", () => {
  it("while it moves: one message per CURSOR_FLUSH_SECONDS, one bucket each", async () => {
    const s = await createSession();
    const kept = queueKept();
    const interval = settingsWith().cursorFlushSeconds * 1000;
    const { batches } = pointer60(s.server_time - 40_000, 25);
    let elapsed = 0;
    await runInDurableObject(cursorSessionStub(env, s.id), async (_i: CursorSession, state) => {
      const parts = withQueue(state, kept);
      // 25 s of events in about 2.5 s of wall time: the flush interval, not the event rate, sets the pace.
      const started = Date.now();
      for (const batch of batches) {
        expect((await parts.ingest(batch, Date.now())).ok).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      elapsed = Date.now() - started;
    });
    expect(kept.sent.length).toBeGreaterThan(0);
    expect(kept.sent.length).toBeLessThanOrEqual(Math.floor(elapsed / interval) + 1);
    for (const m of kept.sent) expect(m.rollups).toHaveLength(1);
  });

  it(`a flush of everything sends at most ${MAX_MESSAGES_PER_FLUSH} messages; the alarm sends the rest`, async () => {
    const s = await createSession();
    const kept = queueKept();
    // One event per bucket, more buckets than a flush sends (the D1 cap set out of the way).
    const { batches } = sparse(s.server_time - CLOCK_SKEW_MS + 1000, 1200, ROLLUP_SECONDS * 1000);
    await runInDurableObject(cursorSessionStub(env, s.id), async (_i: CursorSession, state) => {
      const parts = withQueue(state, kept);
      for (const batch of batches) {
        const now = batch.at(-1)!.t;
        expect((await parts.ingest(batch, now)).ok).toBe(true);
      }
      parts.store.update({ rollups_sent: -10_000 });
      expect(await parts.outbox.flush(true)).toBe(false);
      expect(kept.sent).toHaveLength(MAX_MESSAGES_PER_FLUSH);
      expect(kept.sent.every((m) => m.rollups.length === MAX_ROLLUPS_PER_MESSAGE)).toBe(true);
      // The alarm comes round soon for the rest.
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual(Date.now() + 2_000);
      expect(await parts.outbox.flush(true)).toBe(false);
      expect(await parts.outbox.flush(true)).toBe(true);
      expect(kept.sent.reduce((n, m) => n + m.rollups.length, 0)).toBe(1200);
    });
  });

  it(`D1 gets at most ceil(life / ${ROLLUP_SECONDS} s) + 1 rows, and at most ${MAX_ROLLUPS_PER_SESSION}`, async () => {
    const day = 86_400_000;
    const t0 = Date.now() - day;
    for (const [label, { events, batches }] of [
      ["dense", pointer60(t0, 60)],
      ["sparse, 10 minutes", sparse(t0, 60, 10_000)],
      ["sparse, a whole day", sparse(t0, day / 10_000, 10_000)],
    ] as const) {
      const id = crypto.randomUUID();
      // The session's D1 row, as POST /cursor/sessions makes it, so the end summary has a row to land in.
      await env.DB.prepare(
        "INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at) VALUES (?, 1, 1, ?)",
      )
        .bind(id, t0)
        .run();
      const stub = cursorSessionStub(env, id);
      await stub.init(id, t0);
      for (const batch of batches) expect((await stub.ingest(batch, batch.at(-1)!.t)).ok).toBe(true);
      await stub.end(events.at(-1)!.t);
      await vi.waitFor(async () => expect((await stub.snapshot())?.unflushed_events).toBe(0), { timeout: 10_000 });
      const life = events.at(-1)!.t - t0 + 2 * CLOCK_SKEW_MS;
      const bound = Math.min(Math.ceil(life / (ROLLUP_SECONDS * 1000)) + 1, MAX_ROLLUPS_PER_SESSION);
      // One row per bucket that saw an event, the oldest MAX_ROLLUPS_PER_SESSION of them.
      const buckets = new Set(events.map((e) => Math.floor(e.t / (ROLLUP_SECONDS * 1000)))).size;
      const expected = Math.min(buckets, MAX_ROLLUPS_PER_SESSION);
      expect(expected).toBeLessThanOrEqual(bound);
      // Every message applied (the summary rides on the last): the rows are all there, and the final totals count
      // every event.
      await vi.waitFor(
        async () => {
          const row = await env.DB.prepare("SELECT event_count FROM cursor_sessions WHERE id = ?").bind(id).first();
          expect(row).toMatchObject({ event_count: events.length });
          expect((await rollupRows(id)).length).toBe(expected);
        },
        { timeout: 10_000 },
      );
      console.log(`CURSOR_FIGURE ${label}: ${events.length} events, ${expected} rollup rows (bound ${bound})`);
    }
  }, 60_000);
});

describe("what one session sends to the queue", () => {
  it(`at most ${MAX_MESSAGES_PER_SESSION} messages, however the events trickle in; then only the summary`, async () => {
    const s = await createSession();
    const kept = queueKept();
    await runInDurableObject(cursorSessionStub(env, s.id), async (_i: CursorSession, state) => {
      const parts = withQueue(state, kept);
      // One event at a time, 2 ms apart (a bucket or two), each flushed: a new version of a bucket each message.
      for (let i = 0; i < MAX_MESSAGES_PER_SESSION + 50; i++) {
        expect((await parts.ingest([{ x: i, y: 0, t: s.server_time + 2 * i }], Date.now())).ok).toBe(true);
        await parts.outbox.flush(false);
      }
      expect(kept.sent).toHaveLength(MAX_MESSAGES_PER_SESSION);
      expect(parts.store.row()?.flushed_seq).toBe(MAX_MESSAGES_PER_SESSION + 49);
      await parts.lifecycle.end(Date.now());
      expect(kept.sent).toHaveLength(MAX_MESSAGES_PER_SESSION + 1);
      expect(kept.sent.at(-1)).toMatchObject({
        rollups: [],
        summary: { event_count: MAX_MESSAGES_PER_SESSION + 50 },
      });
    });
  }, 30_000);
});
