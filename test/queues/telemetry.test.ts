import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import type { CursorRollupsMessage, Rollup } from "../../src/cursor/protocol";
import { handleQueue } from "../../src/queues";
import { MAX_BOUND_PARAMETERS, ROLLUP_ROWS_PER_STATEMENT, rollupStatements } from "../../src/queues/telemetry";

const B0 = 1_767_225_600; // epoch seconds on a 10 s boundary

function rollup(bucket: number, lastSeq: number, over: Partial<Rollup> = {}): Rollup {
  return {
    bucket_start: B0 + bucket * 10,
    distance: 5 * (lastSeq + 1),
    peak_speed: 50,
    event_count: lastSeq + 1,
    start_x: 0,
    start_y: 0,
    end_x: 3,
    end_y: 4,
    last_seq: lastSeq,
    total_distance: 5 * (lastSeq + 1),
    last_t: (B0 + bucket * 10) * 1000 + 500,
    ...over,
  };
}

function message(sessionId: string, rollups: Rollup[], summary?: CursorRollupsMessage["summary"]) {
  const last = rollups.at(-1)?.last_seq ?? -1;
  return { type: "cursor.rollups", id: `${sessionId}:${last}`, session_id: sessionId, rollups, summary };
}

async function deliver(bodies: unknown[], attempts = 1, testEnv: Env = env) {
  const batch = createMessageBatch(
    "telemetry",
    bodies.map((body, i) => ({ id: `m${i}-${crypto.randomUUID()}`, timestamp: new Date(), attempts, body })),
  );
  const ctx = createExecutionContext();
  await handleQueue(batch, testEnv, ctx);
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
  const rollups = await env.DB.prepare("SELECT * FROM cursor_rollups WHERE session_id = ? ORDER BY bucket_start")
    .bind(id)
    .all();
  const session = await env.DB.prepare(
    "SELECT event_count, total_distance, last_event_at, ended_at FROM cursor_sessions WHERE id = ?",
  )
    .bind(id)
    .first();
  return { rollups: rollups.results, session };
}

describe("rollupStatements", () => {
  it("fits D1's bound-parameter limit, names each bucket once, and keeps the newest version of each", async () => {
    const id = await newSession();
    const rollups = Array.from({ length: 50 }, (_, i) => rollup(i, i * 10 + 9));
    const statements = rollupStatements(env.DB, [
      message(id, rollups),
      message(id, [rollup(0, 3)]),
    ] as CursorRollupsMessage[]);
    expect(statements).toHaveLength(Math.ceil(50 / ROLLUP_ROWS_PER_STATEMENT));
    expect(ROLLUP_ROWS_PER_STATEMENT * (Object.keys(rollups[0]!).length + 1)).toBeLessThanOrEqual(MAX_BOUND_PARAMETERS);
    // D1 itself refuses a statement over its limit, or one naming a key twice.
    await env.DB.batch(statements);
    const stored = await dump(id);
    expect(stored.rollups).toHaveLength(50);
    expect(stored.rollups[0]).toMatchObject({ last_seq: 9, event_count: 10 });
  });
});

describe("telemetry consumer", () => {
  it("upserts rollups, writes the end summary, acks, and logs one line per batch", async () => {
    const id = await newSession();
    const info = vi.spyOn(console, "log");
    const result = await deliver([
      message(id, [rollup(0, 9)]),
      message(id, [rollup(0, 19), rollup(1, 29)], {
        event_count: 30,
        total_distance: 150,
        last_event_at: 1,
        ended_at: 2,
      }),
    ]);
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    const stored = await dump(id);
    expect(stored.rollups.map((r) => [r.bucket_start, r.last_seq, r.event_count])).toEqual([
      [B0, 19, 20],
      [B0 + 10, 29, 30],
    ]);
    expect(stored.session).toEqual({ event_count: 30, total_distance: 150, last_event_at: 1, ended_at: 2 });
    const lines = info.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("telemetry batch applied"));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ messages: 2, rollups: 3, summaries: 1, malformed: 0 });
    info.mockRestore();
  });

  it("is idempotent under redelivery, duplicates within a batch and out-of-order delivery", async () => {
    const id = await newSession();
    const older = message(id, [rollup(0, 4)]);
    const newer = message(id, [rollup(0, 9)]);
    await deliver([newer, older, newer]);
    const first = await dump(id);
    expect(first.rollups).toHaveLength(1);
    expect(first.rollups[0]).toMatchObject({ last_seq: 9, event_count: 10 });
    // The older version alone, redelivered later, changes nothing.
    await deliver([older], 2);
    await deliver([older, newer], 3);
    expect(await dump(id)).toEqual(first);
  });

  it("acknowledges a malformed message instead of retrying it forever", async () => {
    const result = await deliver([{ type: "cursor.rollups", id: "bad", session_id: 7, rollups: "nope" }]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
  });

  it("retries with backoff when D1 fails, writing nothing half-way", async () => {
    const id = await newSession();
    const failing = {
      ...env,
      DB: { prepare: env.DB.prepare.bind(env.DB), batch: () => Promise.reject(new Error("D1 down")) },
    } as unknown as Env;
    const result = await deliver([message(id, [rollup(0, 1)])], 3, failing);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages).toHaveLength(1);
    expect((await dump(id)).rollups).toEqual([]);
  });
});
