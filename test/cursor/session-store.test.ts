import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type CursorSession, cursorSessionStub, sessionParts } from "../../src/cursor/cursor-session";
import { CLOCK_SKEW_MS } from "../../src/cursor/protocol";
import { refusalProblem } from "../../src/cursor/refusal";
import { MAX_BYTES_PER_EVENT } from "../../src/cursor/session-store";
import { PROBLEMS } from "../../src/lib/errors";
import { expectProblem } from "../helpers";
import { createSession, openWriter, postEvents, settingsWith, waitForStoredEvents } from "./helpers";

/** n events one millisecond apart from t (so 1,000 of them fill one second of event time at most). */
function run(n: number, t: number, x0 = 0) {
  return Array.from({ length: n }, (_, i) => ({ x: x0 + i, y: 0, t: t + Math.floor(i / 2) }));
}

/** The session's parts as the object wires them, over its own storage, with other settings. */
function partsWith(state: DurableObjectState, over: Parameters<typeof settingsWith>[0]) {
  return sessionParts(state, { queue: env.TELEMETRY_QUEUE, archive: env.ARCHIVE, settings: settingsWith(over) });
}

describe("the session's life bounds event times", () => {
  it("refuses an event before its creation less the skew, or after now plus the skew: 422 naming it, whole", async () => {
    const s = await createSession();
    const created = (await cursorSessionStub(env, s.id).snapshot())!.created_at;
    const ok = (i: number) => ({ x: i, y: i, t: created + i });
    const cases: [{ x: number; y: number; t: number }[], string][] = [
      // The flood: events 10 s apart in 2001, each its own rollup bucket.
      [Array.from({ length: 1000 }, (_, i) => ({ x: i, y: 0, t: Date.UTC(2001, 5, 1) + i * 10_000 })), "events.0.t"],
      [[{ x: 0, y: 0, t: created - CLOCK_SKEW_MS - 1 }, ok(1)], "events.0.t"],
      [[ok(0), ok(1), ok(2), { x: 3, y: 3, t: Date.now() + CLOCK_SKEW_MS + 5_000 }], "events.3.t"],
    ];
    for (const [events, path] of cases) {
      const problem = await expectProblem(await postEvents(s.id, s.token, events), 422);
      expect(problem.errors?.[0]?.path).toBe(path);
      expect(problem.errors?.[0]?.message).toMatch(/session's life/);
    }
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(0);
    // The skew itself is allowed, on both sides.
    const edge = [
      { x: 0, y: 0, t: created - CLOCK_SKEW_MS + 1000 },
      { x: 0, y: 5, t: Date.now() + CLOCK_SKEW_MS - 5_000 },
    ];
    expect((await postEvents(s.id, s.token, edge)).status).toBe(202);
  });

  it("the socket refuses them the same way: a nack with REST's status and field errors, nothing stored", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    const events = [
      { x: 0, y: 0, t: s.server_time },
      { x: 1, y: 1, t: s.server_time + 86_400_000 },
    ];
    page.ws.send(JSON.stringify({ type: "events", first_seq: 0, events }));
    await page.answered(1);
    expect(page.answers[0]).toMatchObject({
      type: "nack",
      first_seq: 0,
      status: 422,
      errors: [{ path: "events.1.t", message: expect.stringMatching(/session's life/) }],
    });
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(0);
    page.ws.close(1000);
  });
});

describe("per-session ingestion limits", () => {
  it("a flood gets 429 with Retry-After once the burst is spent; stored equals accepted", async () => {
    const s = await createSession();
    const t = s.server_time - 30_000;
    let accepted = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await postEvents(s.id, s.token, run(1000, t + i * 1000, i * 1000));
      statuses.push(res.status);
      if (res.status === 202) accepted += ((await res.json()) as { accepted: number }).accepted;
      else {
        expect(res.headers.get("content-type")).toContain("application/problem+json");
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      }
    }
    expect(statuses.slice(0, 2)).toEqual([202, 202]);
    expect(statuses.slice(2)).toEqual([429, 429]);
    expect(accepted).toBe(2000);
    const snapshot = await cursorSessionStub(env, s.id).snapshot();
    expect(snapshot?.event_count).toBe(accepted);
    expect(await waitForStoredEvents(s.id, accepted)).toBe(accepted);
  }, 20_000);

  it("refuses equal-time floods beyond the per-second cap whole (422), storing nothing of them", async () => {
    const s = await createSession();
    const t = s.server_time - 10_000;
    const same = (n: number) => Array.from({ length: n }, (_, i) => ({ x: i, y: i, t }));
    expect((await postEvents(s.id, s.token, same(600))).status).toBe(202);
    const res = await postEvents(s.id, s.token, same(401));
    expect(res.status).toBe(422);
    const problem = (await res.json()) as { errors: { path: string }[] };
    expect(problem.errors[0]!.path).toBe("events.400.t");
    expect((await postEvents(s.id, s.token, same(400))).status).toBe(202);
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(1000);
    // Events must not go backwards in time either.
    expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: t - 1 }])).status).toBe(422);
  });

  it("a session at its event cap refuses more (409, start a new session) and stores nothing of the batch", async () => {
    const s = await createSession();
    await runInDurableObject(cursorSessionStub(env, s.id), async (_i: CursorSession, state) => {
      const parts = partsWith(state, { cursorMaxEventsPerSession: 5 });
      const t = s.server_time;
      expect(await parts.ingest(run(3, t), Date.now())).toMatchObject({ ok: true, event_count: 3 });
      const full = await parts.ingest(run(3, t + 10), Date.now());
      expect(full).toEqual({ ok: false, code: "session_full", cap: 5 });
      if (full.ok) return;
      const problem = refusalProblem(full);
      expect(PROBLEMS[problem.code].status).toBe(409);
      expect(problem.detail).toMatch(/start a new session/);
      expect(parts.store.row()?.event_count).toBe(3);
      expect(await parts.ingest(run(2, t + 10), Date.now())).toMatchObject({ ok: true, event_count: 5 });
    });
  });

  it("caps the bytes a session stores too: coordinates hundredths cannot hold cost more, and stop sooner", async () => {
    const s = await createSession();
    await runInDurableObject(cursorSessionStub(env, s.id), async (_i: CursorSession, state) => {
      const cap = 100;
      const parts = partsWith(state, { cursorMaxEventsPerSession: cap });
      // Each coordinate is stored as its float64 (9 bytes): about 20 bytes an event.
      const odd = (i: number) => ({ x: Math.PI * (i + 1), y: Math.E * (i + 1), t: s.server_time + i });
      let accepted = 0;
      for (let i = 0; i < cap; i += 10) {
        const result = await parts.ingest(
          Array.from({ length: 10 }, (_, j) => odd(i + j)),
          Date.now(),
        );
        if (!result.ok) {
          expect(result).toEqual({ ok: false, code: "session_full", cap });
          break;
        }
        accepted = result.event_count;
      }
      const row = parts.store.row()!;
      expect(accepted).toBeLessThan(cap);
      expect(row.event_count).toBe(accepted);
      expect(row.stored_bytes).toBeLessThanOrEqual(cap * MAX_BYTES_PER_EVENT);
    });
  });
});
