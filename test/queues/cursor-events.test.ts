import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { advance, INITIAL_STATE } from "../../src/cursor/kinematics";
import { type CursorEventsMessage, packMessages } from "../../src/cursor/protocol";
import { handleQueue } from "../../src/queues";
import { cursorStatements, MAX_BOUND_PARAMETERS } from "../../src/queues/cursor-events";
import { numbered } from "../cursor/helpers";

const T0 = 1_767_225_600_000;

function messagesFor(sessionId: string, batches: { x: number; y: number; t: number }[][]) {
  let state = INITIAL_STATE;
  const all: CursorEventsMessage[] = [];
  for (const batch of batches) {
    const r = advance(state, batch);
    state = r.state;
    all.push(
      ...packMessages(sessionId, numbered(batch, r.state.nextSeq - batch.length), r.seconds, {
        event_count: state.eventCount,
        total_distance: state.totalDistance,
        last_event_at: state.last!.t,
      }),
    );
  }
  return all;
}

async function deliver(bodies: unknown[], attempts = 1) {
  const batch = createMessageBatch(
    "analytics",
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

async function newSession() {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    "INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at) VALUES (?, 800, 600, ?)",
  )
    .bind(id, Date.now())
    .run();
  return id;
}

async function dump(id: string) {
  const events = await env.DB.prepare("SELECT seq, x, y, t FROM cursor_events WHERE session_id = ? ORDER BY seq")
    .bind(id)
    .all();
  const seconds = await env.DB.prepare("SELECT * FROM cursor_seconds WHERE session_id = ? ORDER BY second")
    .bind(id)
    .all();
  const session = await env.DB.prepare(
    "SELECT event_count, total_distance, last_event_at FROM cursor_sessions WHERE id = ?",
  )
    .bind(id)
    .first();
  return { events: events.results, seconds: seconds.results, session };
}

describe("cursorStatements", () => {
  it("binds at most 100 parameters per statement and covers every row", () => {
    const recorded: { sql: string; params: unknown[] }[] = [];
    const fakeDb = {
      prepare: (sql: string) => ({
        bind: (...params: unknown[]) => {
          recorded.push({ sql, params });
          return {} as D1PreparedStatement;
        },
      }),
    } as unknown as D1Database;
    const points = Array.from({ length: 45 }, (_, i) => ({ x: i, y: 0, t: T0 + i * 250 }));
    const messages = messagesFor("s", [points.slice(0, 20), points.slice(20)]);
    const statements = cursorStatements(fakeDb, messages);
    expect(statements).toHaveLength(recorded.length);
    for (const r of recorded) {
      expect(r.params.length).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
      const placeholders = new Set(r.sql.match(/\?\d*/g)?.map((p, i) => (p === "?" ? `#${i}` : p)));
      expect(placeholders.size).toBe(r.params.length);
    }
    const inserts = recorded.filter((r) => r.sql.includes("cursor_events"));
    expect(inserts).toHaveLength(3); // 45 events, 20 a statement
    expect(inserts.reduce((n, r) => n + r.params.length / 5, 0)).toBe(45);
    const seconds = recorded.filter((r) => r.sql.includes("cursor_seconds"));
    // 12 seconds touched (one of them by both batches), written once each: two statements of up to 10 rows.
    expect(seconds.reduce((n, r) => n + r.params.length / 10, 0)).toBe(12);
    expect(seconds).toHaveLength(2);
    // One summary per session, the newest.
    const summaries = recorded.filter((r) => r.sql.includes("UPDATE cursor_sessions"));
    expect(summaries).toHaveLength(1);
    expect(summaries[0]!.params[0]).toBe(45);
  });
});

describe("cursor.events consumer", () => {
  it("writes events, per-second rows and the session summary, and acks", async () => {
    const id = await newSession();
    const messages = messagesFor(id, [
      [
        { x: 0, y: 0, t: T0 + 100 },
        { x: 3, y: 4, t: T0 + 1100 },
      ],
      [{ x: 6, y: 8, t: T0 + 2100 }],
    ]);
    const result = await deliver(messages);
    expect(result.explicitAcks.length).toBe(messages.length);
    expect(result.retryMessages).toEqual([]);
    const stored = await dump(id);
    expect(stored.events).toEqual([
      { seq: 0, x: 0, y: 0, t: T0 + 100 },
      { seq: 1, x: 3, y: 4, t: T0 + 1100 },
      { seq: 2, x: 6, y: 8, t: T0 + 2100 },
    ]);
    expect(stored.seconds.map((s) => [s.second, s.distance, s.event_count, s.last_seq])).toEqual([
      [T0 / 1000, 0, 1, 0],
      [T0 / 1000 + 1, 5, 1, 1],
      [T0 / 1000 + 2, 5, 1, 2],
    ]);
    expect(stored.session).toEqual({ event_count: 3, total_distance: 10, last_event_at: T0 + 2100 });
  });

  it("is idempotent under redelivery, duplicates within a batch and out-of-order delivery", async () => {
    const id = await newSession();
    // Batch one ends mid-second; batch two continues that second.
    const [one, two] = messagesFor(id, [
      Array.from({ length: 30 }, (_, i) => ({ x: i, y: 0, t: T0 + i * 10 })),
      Array.from({ length: 30 }, (_, i) => ({ x: 30 + i, y: 0, t: T0 + 300 + i * 10 })),
    ]) as [CursorEventsMessage, CursorEventsMessage];
    await deliver([two, one, two]);
    const first = await dump(id);
    expect(first.events).toHaveLength(60);
    expect(first.seconds).toHaveLength(1);
    expect(first.seconds[0]).toMatchObject({ distance: 59, event_count: 60, last_seq: 59, start_x: 0, end_x: 59 });
    expect(first.session).toMatchObject({ event_count: 60, total_distance: 59 });

    // Redelivered again, the older message alone: nothing changes, nothing is stored twice.
    const again = await deliver([one], 2);
    expect(again.explicitAcks).toHaveLength(1);
    await deliver([one, two], 3);
    expect(await dump(id)).toEqual(first);
  });

  it("acknowledges a malformed message instead of retrying it forever", async () => {
    const result = await deliver([{ type: "cursor.events", id: "bad", session_id: 7, events: "nope" }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });

  it("retries with backoff when D1 fails, writing nothing half-way", async () => {
    const id = await newSession();
    const messages = messagesFor(id, [[{ x: 1, y: 1, t: T0 }]]);
    const failing = {
      ...env,
      DB: { prepare: env.DB.prepare.bind(env.DB), batch: () => Promise.reject(new Error("D1 down")) },
    };
    const batch = createMessageBatch("analytics", [{ id: "x", timestamp: new Date(), attempts: 3, body: messages[0] }]);
    const ctx = createExecutionContext();
    await handleQueue(batch, failing as unknown as Env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(["x"]);
    expect((await dump(id)).events).toEqual([]);
  });
});
