import { createScheduledController, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { DAILY } from "../../src/cron";
import { archiveKey } from "../../src/cursor/archive";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { cursorLimits, DEFAULT_LIMITS, overfullSecond, TokenBucket } from "../../src/cursor/limits";
import worker from "../../src/index";
import { api } from "../helpers";
import { createSession, openViewer, postEvents, waitForStoredEvents } from "./helpers";

const DAY = 86_400_000;

/** n events one millisecond apart from t (so 1,000 of them fill one second of event time at most). */
function run(n: number, t: number, x0 = 0) {
  return Array.from({ length: n }, (_, i) => ({ x: x0 + i, y: 0, t: t + Math.floor(i / 2) }));
}

describe("limits, pure", () => {
  it("reads the settings with the documented defaults", () => {
    expect(cursorLimits(env)).toEqual(DEFAULT_LIMITS);
    expect(cursorLimits({ CURSOR_IDLE_MINUTES: "2" })).toMatchObject({ eventsPerSecond: 500, idleMs: 120_000 });
    expect(() => cursorLimits({ CURSOR_MAX_EVENTS_PER_SECOND: "0" })).toThrow("CURSOR_MAX_EVENTS_PER_SECOND");
  });

  it("token bucket: a full burst, then the refill rate; Retry-After rounds up", () => {
    const bucket = new TokenBucket(500, 2000);
    expect(bucket.wait(1000, 0)).toBe(0);
    bucket.take(1000, 0);
    bucket.take(1000, 0);
    expect(bucket.wait(1, 0)).toBe(1);
    expect(bucket.wait(1000, 1000)).toBe(1);
    expect(bucket.wait(1000, 2000)).toBe(0);
    expect(bucket.wait(2001, 10_000)).toBe(Number.POSITIVE_INFINITY);
  });

  it("overfullSecond counts the open second and restarts at each new second", () => {
    const open = {
      second: 1,
      distance: 0,
      peak_speed: 0,
      event_count: 2,
      start_x: 0,
      start_y: 0,
      end_x: 0,
      end_y: 0,
      last_seq: 1,
    };
    const events = [
      { x: 0, y: 0, t: 1500 },
      { x: 0, y: 0, t: 1600 },
      { x: 0, y: 0, t: 2000 },
    ];
    expect(overfullSecond(open, events, 3)).toBe(1);
    expect(overfullSecond(null, events, 2)).toBe(-1);
    expect(overfullSecond(null, events, 1)).toBe(1);
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

  it("a session at its event cap answers 409 saying to start a new session", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    await runInDurableObject(stub, (instance: CursorSession) => {
      const self = instance as unknown as { limits: ReturnType<typeof cursorLimits> };
      self.limits = { ...self.limits, eventsPerSession: 5 };
    });
    const t = s.server_time;
    expect((await postEvents(s.id, s.token, run(3, t))).status).toBe(202);
    const res = await postEvents(s.id, s.token, run(3, t + 10));
    expect(res.status).toBe(409);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/start a new session/);
    expect((await stub.snapshot())?.event_count).toBe(3);
    expect((await postEvents(s.id, s.token, run(2, t + 10))).status).toBe(202);
  });
});

describe("session lifecycle", () => {
  it("limits session creation per client address (429 with Retry-After)", async () => {
    const address = `198.51.100.${Math.floor(Math.random() * 200)}`;
    const create = () =>
      api("/cursor/sessions", {
        method: "POST",
        headers: { "cf-connecting-ip": address },
        json: { viewport: { width: 10, height: 10 } },
      });
    // The limiter counts in fixed 60 s windows: within one, 20 pass and the 21st is refused. A run that straddles
    // a window's end may see up to 40 pass before the first refusal, never more.
    const statuses: number[] = [];
    while (statuses.length < 41 && statuses.at(-1) !== 429) statuses.push((await create()).status);
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(20);
    const refused = await create();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("60");
    // Another address is not affected.
    const other = await api("/cursor/sessions", {
      method: "POST",
      headers: { "cf-connecting-ip": "203.0.113.7" },
      json: { viewport: { width: 10, height: 10 } },
    });
    expect(other.status).toBe(201);
  });

  it("an idle session ends itself by alarm and closes its sockets", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    expect((await postEvents(s.id, s.token, run(2, s.server_time))).status).toBe(202);
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    // Not idle yet: the alarm leaves it running.
    await runDurableObjectAlarm(stub);
    expect((await stub.snapshot())?.ended_at).toBeNull();
    await runInDurableObject(stub, async (instance: CursorSession, state) => {
      state.storage.sql.exec("UPDATE session SET last_active_at = ?", Date.now() - 31 * 60_000);
      (instance as unknown as { cached: undefined }).cached = undefined;
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.ended_at).toEqual(expect.any(Number));
    expect((await viewer.closed).code).toBe(1000);
    expect((await postEvents(s.id, s.token, run(1, s.server_time + 10))).status).toBe(409);
  });

  it("retention removes a session's D1 rows and its object's storage", async () => {
    const old = await createSession();
    const kept = await createSession();
    for (const s of [old, kept]) {
      expect((await postEvents(s.id, s.token, run(3, s.server_time))).status).toBe(202);
      await waitForStoredEvents(s.id, 3);
    }
    // The old one has ended, so it also has an archive in R2.
    expect((await api(`/cursor/sessions/${old.id}`, { method: "DELETE", token: old.token })).status).toBe(204);
    const key = archiveKey(old.id, (await cursorSessionStub(env, old.id).snapshot())!.created_at);
    expect(await env.ARCHIVE.head(key)).not.toBeNull();
    await env.DB.prepare("UPDATE cursor_sessions SET created_at = ? WHERE id = ?")
      .bind(Date.now() - 31 * DAY, old.id)
      .run();
    await worker.scheduled(createScheduledController({ cron: DAILY, scheduledTime: Date.now() }), env);
    const rows = async (id: string) =>
      (await env.DB.prepare(
        `SELECT (SELECT count(*) FROM cursor_sessions WHERE id = ?1)
           + (SELECT count(*) FROM cursor_rollups WHERE session_id = ?1) AS n`,
      )
        .bind(id)
        .first<{ n: number }>())!.n;
    expect(await rows(old.id)).toBe(0);
    expect(await rows(kept.id)).toBeGreaterThan(0);
    await runInDurableObject(cursorSessionStub(env, old.id), async (_i: CursorSession, state) => {
      const tables = state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray();
      expect(tables).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
    });
    expect(await env.ARCHIVE.head(key)).toBeNull();
    expect((await cursorSessionStub(env, kept.id).snapshot())?.event_count).toBe(3);
  }, 20_000);
});
