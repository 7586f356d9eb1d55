import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signCursorToken } from "../../../src/auth/session-tokens";
import { signJwt } from "../../../src/auth/tokens";
import { cursorSessionStub } from "../../../src/cursor/cursor-session";
import { BATCH_INTERVAL_MS, BATCH_MAX_EVENTS, SAMPLE_INTERVAL_MS } from "../../../src/routes/cursor/cursor.schemas";
import { alignedRecent, createSession, openViewer, postEvents } from "../../cursor/helpers";
import { api, call, createUser, expectProblem } from "../../helpers";

describe("POST /cursor/sessions", () => {
  it("creates a session with a scoped token, a ws_url carrying it, the server clock and sampling hints", async () => {
    const before = Date.now();
    const res = await api("/cursor/sessions", {
      method: "POST",
      json: { viewport: { width: 390, height: 844 }, label: "phone" },
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown> & { id: string; token: string; ws_url: string };
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.server_time).toBeGreaterThanOrEqual(before);
    // The page's sampling hints, as the schema's examples document them.
    expect(body).toMatchObject({
      sample_interval_ms: SAMPLE_INTERVAL_MS,
      batch_interval_ms: BATCH_INTERVAL_MS,
      batch_max_events: BATCH_MAX_EVENTS,
    });
    // Relative: PUBLIC_ORIGIN is empty in tests (test/routes/cursor/ws-url.test.ts covers a configured one).
    expect(body.ws_url).toMatch(/^\/api\/v1\//);
    const ws = new URL(body.ws_url, "http://localhost");
    expect(ws.pathname).toBe(`/api/v1/cursor/sessions/${body.id}/live`);
    expect(ws.searchParams.get("token")).toBe(body.token);
    expect(res.headers.get("location")).toBe(`/api/v1/cursor/sessions/${body.id}/stats`);
    // The D1 row exists from the start.
    const row = await env.DB.prepare("SELECT * FROM cursor_sessions WHERE id = ?").bind(body.id).first();
    expect(row).toMatchObject({ label: "phone", viewport_width: 390, viewport_height: 844, event_count: 0 });
    // The token is a session token: it does not work as an access token.
    const me = await api("/auth/me", { token: body.token });
    expect(me.status).toBe(401);
  });

  it("rejects a missing or invalid viewport (422) and a non-JSON body (415)", async () => {
    const missing = await expectProblem(await api("/cursor/sessions", { method: "POST", json: {} }), 422);
    expect(missing.errors?.map((e) => e.path)).toContain("viewport");
    const bad = await expectProblem(
      await api("/cursor/sessions", { method: "POST", json: { viewport: { width: 0, height: 1.5 } } }),
      422,
    );
    expect(bad.errors?.map((e) => e.path).sort()).toEqual(["viewport.height", "viewport.width"]);
    await expectProblem(
      await api("/cursor/sessions", { method: "POST", body: "x", headers: { "content-type": "text/plain" } }),
      415,
    );
  });
});

describe("POST /cursor/sessions/{id}/events", () => {
  it("accepts a batch (202) and continues the path in the next one", async () => {
    const s = await createSession();
    const t = s.server_time;
    const one = await postEvents(s.id, s.token, [
      { x: 0, y: 0, t },
      { x: 3, y: 4, t: t + 50 },
    ]);
    expect(one.status).toBe(202);
    expect(await one.json()).toMatchObject({ accepted: 2, first_seq: 0, last_seq: 1, total_distance: 5, distance: 5 });
    const two = await postEvents(s.id, s.token, [{ x: 6, y: 8, t: t + 100 }]);
    expect(two.status).toBe(202);
    expect(await two.json()).toMatchObject({
      accepted: 1,
      first_seq: 2,
      distance: 5,
      total_distance: 10,
      event_count: 3,
    });
  });

  it("401 without a token or with a bad one, 403 with another session's token or an access token", async () => {
    const a = await createSession();
    const b = await createSession();
    const events = [{ x: 1, y: 1, t: a.server_time }];
    const none = await expectProblem(await postEvents(a.id, undefined, events), 401);
    expect(none.detail).toMatch(/Bearer/);
    await expectProblem(await postEvents(a.id, "not-a-jwt", events), 401);
    await expectProblem(await postEvents(a.id, `${a.token.slice(0, -4)}AAAA`, events), 401);
    const expired = await signJwt(env, {
      typ: "cursor+jwt",
      subject: a.id,
      audience: `${env.JWT_AUDIENCE}:cursor`,
      ttlSeconds: 60,
      now: Date.now() - 3_600_000,
    });
    expect((await expectProblem(await postEvents(a.id, expired, events), 401)).detail).toMatch(/expired/);
    // Same secret and subject but the wrong audience: not a session token.
    const wrongAudience = await signJwt(env, { typ: "cursor+jwt", subject: a.id, ttlSeconds: 60 });
    await expectProblem(await postEvents(a.id, wrongAudience, events), 401);
    await expectProblem(await postEvents(a.id, b.token, events), 403);
    const member = await createUser("member");
    await expectProblem(await postEvents(a.id, member.token, events), 403);
    const admin = await createUser("admin");
    await expectProblem(await postEvents(a.id, admin.token, events), 403);
    // Nothing was applied by any of them.
    expect((await cursorSessionStub(env, a.id).snapshot())?.event_count).toBe(0);
  });

  it("404 for an unknown session, 400 for an id that is not a UUID", async () => {
    const id = crypto.randomUUID();
    const token = await signCursorToken(env, id);
    await expectProblem(await postEvents(id, token, [{ x: 1, y: 1, t: Date.now() }]), 404);
    await expectProblem(await postEvents("nope", token, [{ x: 1, y: 1, t: Date.now() }]), 400);
  });

  it("validates all-or-nothing and names the offending index", async () => {
    const s = await createSession();
    const t = s.server_time;
    const ok = (i: number) => ({ x: i, y: i, t: t + i });
    const cases: [unknown, string][] = [
      [[], "events"],
      [[ok(0), ok(1), { x: 2, y: 200_001, t: t + 2 }], "events.2.y"],
      [[ok(0), { x: "1", y: 1, t: t + 1 }], "events.1.x"],
      [[ok(0), ok(1), ok(2), { x: 3, y: 3, t: t + 3.5 }], "events.3.t"],
      [[ok(0), ok(1), ok(2), { x: 3, y: 3, t: t - 1 }], "events.3.t"],
      [[ok(0), { x: 1, y: 1, t: Date.now() + 120_000 }], "events.1.t"],
      [[{ x: 1, y: 1, t: 1000 }], "events.0.t"],
      [[{ x: 1, y: 1 }], "events.0.t"],
      [Array.from({ length: 1001 }, (_, i) => ok(i)), "events"],
    ];
    for (const [events, path] of cases) {
      const problem = await expectProblem(await postEvents(s.id, s.token, events), 422);
      expect(problem.errors?.[0]?.path, JSON.stringify(events).slice(0, 80)).toBe(path);
    }
    await expectProblem(
      await api(`/cursor/sessions/${s.id}/events`, { method: "POST", token: s.token, json: {} }),
      422,
    );
    // None of it was applied.
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(0);
    // 1,000 events is fine.
    const max = await postEvents(
      s.id,
      s.token,
      Array.from({ length: 1000 }, (_, i) => ok(i)),
    );
    expect(max.status).toBe(202);
  });

  it("422 when a batch starts before the previous batch's last t; the session is unchanged", async () => {
    const s = await createSession();
    const t = s.server_time;
    expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: t + 500 }])).status).toBe(202);
    const problem = await expectProblem(
      await postEvents(s.id, s.token, [
        { x: 10, y: 0, t: t + 499 },
        { x: 20, y: 0, t: t + 600 },
      ]),
      422,
    );
    expect(problem.errors).toEqual([{ path: "events.0.t", message: expect.stringContaining(String(t + 500)) }]);
    // The same t as the last one is allowed (browsers repeat timestamps).
    const same = await postEvents(s.id, s.token, [{ x: 0, y: 10, t: t + 500 }]);
    expect(await same.json()).toMatchObject({ total_distance: 10, event_count: 2 });
  });
});

describe("GET /cursor/sessions/{id}/live", () => {
  it("426 problem without an upgrade header, 401 without a token, 403 with another session's token", async () => {
    const a = await createSession();
    const b = await createSession();
    const plain = await expectProblem(await api(`/cursor/sessions/${a.id}/live?token=${a.token}`), 426);
    expect(plain.detail).toMatch(/websocket/i);
    const upgrade = { headers: { Upgrade: "websocket" } };
    await expectProblem(await api(`/cursor/sessions/${a.id}/live`, upgrade), 401);
    await expectProblem(await api(`/cursor/sessions/${a.id}/live?token=garbage`, upgrade), 401);
    await expectProblem(await api(`/cursor/sessions/${a.id}/live?token=${b.token}`, upgrade), 403);
  });

  it("streams frames over ws_url; an admin may watch too", async () => {
    const s = await createSession();
    const viewer = await openViewer(s.ws_url);
    expect(await viewer.frame(0)).toMatchObject({ type: "hello", session_id: s.id, total_distance: 0, ended: false });
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t: s.server_time },
      { x: 30, y: 40, t: s.server_time + 100 },
    ]);
    expect(await viewer.frame(1)).toEqual({
      type: "frame",
      t: s.server_time + 100,
      speed: 500,
      distance: 50,
      total_distance: 50,
      events: 2,
      event_count: 2,
      window_ms: 100,
    });
    const admin = await createUser("admin");
    const adminViewer = await openViewer(`/api/v1/cursor/sessions/${s.id}/live?token=${admin.token}`);
    expect(await adminViewer.frame(0)).toMatchObject({ type: "hello", total_distance: 50, event_count: 2 });
    viewer.ws.close(1000);
    adminViewer.ws.close(1000);
  });
});

describe("DELETE /cursor/sessions/{id}", () => {
  it("ends the session: viewers get 'ended' and are closed, events are refused with 409", async () => {
    const s = await createSession();
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    const member = await createUser("member");
    await expectProblem(await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: member.token }), 403);
    await expectProblem(await api(`/cursor/sessions/${s.id}`, { method: "DELETE" }), 401);
    const res = await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: s.token });
    expect(res.status).toBe(204);
    expect(await viewer.frame(1)).toMatchObject({ type: "ended" });
    expect((await viewer.closed).code).toBe(1000);
    await expectProblem(await postEvents(s.id, s.token, [{ x: 1, y: 1, t: Date.now() }]), 409);
    await expectProblem(
      await call(`/api/v1/cursor/sessions/${s.id}/live?token=${s.token}`, { headers: { Upgrade: "websocket" } }),
      409,
    );
    const row = await env.DB.prepare("SELECT ended_at FROM cursor_sessions WHERE id = ?")
      .bind(s.id)
      .first<{ ended_at: number }>();
    expect(row?.ended_at).toBeGreaterThan(0);
    // Idempotent, and an admin may do it as well.
    const admin = await createUser("admin");
    expect((await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: admin.token })).status).toBe(204);
    const unknown = crypto.randomUUID();
    await expectProblem(await api(`/cursor/sessions/${unknown}`, { method: "DELETE", token: admin.token }), 404);
  });
});

describe("GET /cursor/sessions/{id}/stats", () => {
  it("sums the stored events: (0,0), (3,4), (6,8) one second apart in one 10 s bucket", async () => {
    const s = await createSession();
    const t0 = alignedRecent();
    const res = await postEvents(s.id, s.token, [
      { x: 0, y: 0, t: t0 + 1000 },
      { x: 3, y: 4, t: t0 + 2000 },
      { x: 6, y: 8, t: t0 + 3000 },
    ]);
    expect(res.status).toBe(202);
    const from = new Date(t0 - 60_000).toISOString();
    const stats = await api(`/cursor/sessions/${s.id}/stats?bucket=10s&from=${from}`, { token: s.token });
    expect(stats.status).toBe(200);
    const body = (await stats.json()) as {
      buckets: Record<string, unknown>[];
      totals: unknown;
      bucket_seconds: number;
    };
    expect(body.bucket_seconds).toBe(10);
    expect(body.buckets).toEqual([
      {
        start: new Date(t0).toISOString(),
        end: new Date(t0 + 10_000).toISOString(),
        distance: 10,
        avg_speed: 1,
        peak_speed: 5,
        event_count: 3,
        start_point: { x: 0, y: 0 },
        end_point: { x: 6, y: 8 },
      },
    ]);
    expect(body.totals).toEqual({ distance: 10, event_count: 3 });

    // 1 s buckets split it up; a range that excludes it is empty.
    const fine = (await (
      await api(`/cursor/sessions/${s.id}/stats?bucket=1s&from=${from}`, { token: s.token })
    ).json()) as { buckets: { distance: number; avg_speed: number }[] };
    expect(fine.buckets.map((b) => [b.distance, b.avg_speed])).toEqual([
      [0, 0],
      [5, 5],
      [5, 5],
    ]);
    const later = new Date(t0 + 10_000).toISOString();
    const empty = (await (
      await api(`/cursor/sessions/${s.id}/stats?bucket=1m&from=${later}`, { token: s.token })
    ).json()) as { buckets: unknown[] };
    expect(empty.buckets).toEqual([]);
  });

  it("a bucket that spans two batches (and a second split between them) adds up", async () => {
    const s = await createSession();
    const t0 = alignedRecent();
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t: t0 + 100 },
      { x: 0, y: 10, t: t0 + 400 },
    ]);
    await postEvents(s.id, s.token, [
      { x: 0, y: 20, t: t0 + 900 },
      { x: 0, y: 50, t: t0 + 4000 },
    ]);
    const from = new Date(t0).toISOString();
    const body = (await (
      await api(`/cursor/sessions/${s.id}/stats?bucket=10s&from=${from}`, { token: s.token })
    ).json()) as { buckets: { distance: number; event_count: number; end_point: unknown }[] };
    expect(body.buckets).toHaveLength(1);
    expect(body.buckets[0]).toMatchObject({ distance: 50, event_count: 4, end_point: { x: 0, y: 50 } });
  });

  it("the default range covers events from the session's start to ahead of the server clock", async () => {
    const s = await createSession();
    const now = Date.now();
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t: s.server_time - 50_000 },
      { x: 0, y: 9, t: s.server_time - 49_500 },
    ]);
    await postEvents(s.id, s.token, [
      { x: 0, y: 10, t: now + 50_000 },
      { x: 0, y: 20, t: now + 50_500 },
    ]);
    type Stats = { from: string; to: string; totals: { distance: number; event_count: number } };
    const all = (await (await api(`/cursor/sessions/${s.id}/stats?bucket=1m`, { token: s.token })).json()) as Stats;
    expect(all.totals).toEqual({ distance: 20, event_count: 4 });
    expect(Date.parse(all.from)).toBeLessThanOrEqual(s.server_time - 50_000);
    expect(Date.parse(all.to)).toBeGreaterThan(now + 50_500);
  });

  it("400 for a bad bucket, an inverted range or too many buckets; 401/403/404", async () => {
    const s = await createSession();
    const other = await createSession();
    const base = `/cursor/sessions/${s.id}/stats`;
    for (const bucket of ["0s", "10", "5d", "25h", "abc"]) {
      const p = await expectProblem(await api(`${base}?bucket=${bucket}`, { token: s.token }), 400);
      expect(p.errors?.[0]?.path).toBe("bucket");
    }
    await expectProblem(await api(`${base}?from=yesterday`, { token: s.token }), 400);
    await expectProblem(
      await api(`${base}?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z`, { token: s.token }),
      400,
    );
    const tooMany = await expectProblem(
      await api(`${base}?bucket=1s&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z`, { token: s.token }),
      400,
    );
    expect(tooMany.detail).toMatch(/86400 buckets/);
    await expectProblem(await api(base), 401);
    await expectProblem(await api(base, { token: other.token }), 403);
    const unknown = crypto.randomUUID();
    await expectProblem(
      await api(`/cursor/sessions/${unknown}/stats`, { token: await signCursorToken(env, unknown) }),
      404,
    );
  });
});

describe("GET /cursor/sessions/{id}/events", () => {
  it("pages raw events by seq (keyset)", async () => {
    const s = await createSession();
    const t = s.server_time;
    const events = Array.from({ length: 25 }, (_, i) => ({ x: i, y: 2 * i, t: t + i * 10 }));
    await postEvents(s.id, s.token, events);
    const seen: number[] = [];
    let after: number | null = -1;
    let pages = 0;
    while (after !== null) {
      const res = await api(`/cursor/sessions/${s.id}/events?after=${after}&limit=10`, { token: s.token });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        items: { seq: number; x: number; y: number; t: number }[];
        next_after: number | null;
      };
      for (const e of body.items) expect(e).toEqual({ seq: e.seq, x: e.seq, y: 2 * e.seq, t: t + e.seq * 10 });
      seen.push(...body.items.map((e) => e.seq));
      after = body.next_after;
      pages += 1;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => i));
    await expectProblem(await api(`/cursor/sessions/${s.id}/events?limit=1001`, { token: s.token }), 400);
    await expectProblem(await api(`/cursor/sessions/${s.id}/events?after=x`, { token: s.token }), 400);
  });
});

describe("GET /cursor/sessions (admin)", () => {
  it("lists sessions newest first for admins only", async () => {
    const s = await createSession("listed");
    await expectProblem(await api("/cursor/sessions"), 401);
    await expectProblem(await api("/cursor/sessions", { token: s.token }), 401);
    const member = await createUser("member");
    await expectProblem(await api("/cursor/sessions", { token: member.token }), 403);
    const admin = await createUser("admin");
    const res = await api("/cursor/sessions?limit=100", { token: admin.token });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: { id: string; label: string | null }[]; total: number; limit: number };
    expect(body.limit).toBe(100);
    expect(body.total).toBeGreaterThanOrEqual(1);
    expect(body.items.find((i) => i.id === s.id)).toMatchObject({
      label: "listed",
      viewport: { width: 1280, height: 800 },
      ended_at: null,
    });
    await expectProblem(await api("/cursor/sessions?limit=0", { token: admin.token }), 400);
  });
});

describe("OpenAPI", () => {
  it("documents every cursor route, the WebSocket's 101 and 426", async () => {
    const doc = (await (await call("/openapi.json")).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths["/api/v1/cursor/sessions"]!).sort()).toEqual(["get", "post"]);
    expect(doc.paths["/api/v1/cursor/sessions/{id}/events"]).toHaveProperty("post");
    expect(doc.paths["/api/v1/cursor/sessions/{id}/events"]).toHaveProperty("get");
    expect(doc.paths["/api/v1/cursor/sessions/{id}/stats"]).toHaveProperty("get");
    expect(doc.paths["/api/v1/cursor/sessions/{id}"]).toHaveProperty("delete");
    const live = doc.paths["/api/v1/cursor/sessions/{id}/live"]!.get!;
    expect(Object.keys(live.responses)).toEqual(expect.arrayContaining(["101", "426", "401", "403"]));
  });
});

describe("POST /cursor/sessions/{id}/events with first_seq", () => {
  it("answers 409 with next_seq for a batch resent after it was accepted", async () => {
    const s = await createSession();
    const t = s.server_time;
    const events = [{ x: 0, y: 0, t }];
    const send = (first_seq: number) =>
      api(`/cursor/sessions/${s.id}/events`, { method: "POST", token: s.token, json: { events, first_seq } });
    expect((await send(0)).status).toBe(202);
    const again = await expectProblem(await send(0), 409);
    expect(again).toMatchObject({ next_seq: 1 });
    await expectProblem(await send(-1), 422);
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(1);
  });
});
