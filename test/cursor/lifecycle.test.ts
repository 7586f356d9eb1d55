import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { archiveKey } from "../../src/cursor/archive";
import { type CursorSession, cursorSessionStub, sessionParts } from "../../src/cursor/cursor-session";
import { RETRY_MS, SAFETY_ALARM_MS } from "../../src/cursor/lifecycle";
import { api, createUser } from "../helpers";
import {
  allEvents,
  createSession,
  openViewer,
  pointer60,
  postEvents,
  queueDown,
  settingsWith,
  waitForStoredEvents,
} from "./helpers";

function partsWith(state: DurableObjectState, deps: { queue?: unknown; archive?: unknown } = {}) {
  return sessionParts(state, {
    queue: (deps.queue ?? env.TELEMETRY_QUEUE) as Queue,
    archive: (deps.archive ?? env.ARCHIVE) as R2Bucket,
    settings: settingsWith(),
  });
}

describe("the alarm", () => {
  it("is set once while it is pending, not with every batch; then the idle alarm is brought forward", async () => {
    const s = await createSession();
    const t = s.server_time;
    const stub = cursorSessionStub(env, s.id);
    await runInDurableObject(stub, async (instance: CursorSession, state) => {
      const setAlarm = vi.spyOn(state.storage, "setAlarm");
      for (let i = 0; i < 5; i++) await instance.ingest([{ x: i, y: 0, t: t + i }], Date.now());
      expect(setAlarm).toHaveBeenCalledTimes(1);
      expect(await state.storage.getAlarm()).not.toBeNull();
      setAlarm.mockRestore();
    });
    // Once that alarm has fired, only the idle alarm (30 minutes out) is left; the next batch brings it forward.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (instance: CursorSession, state) => {
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now() + 29 * 60_000);
      await instance.ingest([{ x: 9, y: 0, t: t + 10 }], Date.now());
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual(Date.now() + SAFETY_ALARM_MS);
    });
    await waitForStoredEvents(s.id, 6);
  }, 20_000);

  it("keeps the rollups pending when the queue fails, retries soon, and delivers them after an eviction", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const t = s.server_time;
    const down = queueDown();
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const parts = partsWith(state, { queue: down });
      const started = Date.now();
      const result = await parts.ingest(
        [
          { x: 0, y: 0, t },
          { x: 0, y: 7, t: t + 10 },
        ],
        Date.now(),
      );
      // The answer does not depend on the queue.
      expect(result).toMatchObject({ ok: true, total_distance: 7 });
      // The failed send (on the flush interval) brings the alarm forward to a quick retry.
      await vi.waitFor(
        async () => {
          expect(down.attempts).toBe(1);
          expect((await state.storage.getAlarm())! - started).toBeLessThan(
            settingsWith().cursorFlushSeconds * 1000 + RETRY_MS + 1000,
          );
        },
        { timeout: 6000 },
      );
      expect(parts.store.row()!.flushed_seq).toBe(-1);
    });
    // Eviction between the failure and the retry loses nothing: the outbox is in SQLite.
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.unflushed_events).toBe(0);
    expect(await waitForStoredEvents(s.id, 2)).toBe(2);
  }, 20_000);

  it("ends an idle session and closes its sockets; until then it leaves it running", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: s.server_time }])).status).toBe(202);
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    const idleMs = settingsWith().cursorIdleMinutes * 60_000;
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const parts = partsWith(state);
      await parts.lifecycle.alarm(Date.now() + idleMs - 60_000);
      expect(parts.store.row()?.ended_at).toBeNull();
      await parts.lifecycle.alarm(Date.now() + idleMs + 1);
      expect(parts.store.row()?.ended_at).toEqual(expect.any(Number));
    });
    expect(await viewer.frame(1)).toMatchObject({ type: "ended" });
    expect((await viewer.closed).code).toBe(1000);
    await evictDurableObject(stub);
    expect((await postEvents(s.id, s.token, [{ x: 1, y: 1, t: s.server_time + 10 }])).status).toBe(409);
  });
});

describe("the end: final rollups and the archive", () => {
  it("is written at the end, retried when R2 fails, and /events pages are identical before and after", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const { events, batches } = pointer60(s.server_time - 10_000, 2);
    for (const batch of batches) expect((await stub.ingest(batch, s.server_time)).ok).toBe(true);
    const before = await allEvents(s.id, s.token, 7);
    const r2Down = { put: () => Promise.reject(new Error("R2 down")), delete: () => Promise.resolve() };
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const parts = partsWith(state, { archive: r2Down });
      await parts.lifecycle.end(Date.now());
      expect(parts.store.row()).toMatchObject({ ended_at: expect.any(Number), end_sent: 1, archived_at: null });
      expect(await state.storage.getAlarm()).toBeLessThanOrEqual(Date.now() + RETRY_MS);
    });
    const key = archiveKey(s.id, (await stub.snapshot())!.created_at);
    expect(await env.ARCHIVE.head(key)).toBeNull();
    // The alarm retries; after an eviction too.
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.archived_at).toEqual(expect.any(Number));
    expect(await allEvents(s.id, s.token, 7)).toEqual(before);

    // The admin route streams it: gzip NDJSON, one event a line, every event once, in order.
    const admin = await createUser("admin");
    const res = await api(`/cursor/sessions/${s.id}/archive`, { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/gzip");
    const text = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
    const lines = text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(events.map((e, seq) => ({ seq, ...e })));
    const list = await api("/cursor/archives", { token: admin.token });
    const listed = (await list.json()) as { items: { session_id: string; event_count: number }[] };
    expect(listed.items).toContainEqual(expect.objectContaining({ session_id: s.id, event_count: events.length }));
    // The session token is no admin's access token.
    expect([401, 403]).toContain((await api(`/cursor/sessions/${s.id}/archive`, { token: s.token })).status);
  });

  it("the purge removes the archive, the object's tables and its alarm, and closes its sockets", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: s.server_time }])).status).toBe(202);
    expect((await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: s.token })).status).toBe(204);
    const key = archiveKey(s.id, (await stub.snapshot())!.created_at);
    expect(await env.ARCHIVE.head(key)).not.toBeNull();
    const admin = await createUser("admin");
    const viewer = await openViewer(`/api/v1/cursor/sessions/${s.id}/live?token=${admin.token}`).catch(() => null);
    expect(viewer).toBeNull(); // ended: no new sockets
    await stub.purge();
    expect(await env.ARCHIVE.head(key)).toBeNull();
    expect(await stub.snapshot()).toBeNull();
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      const tables = state.storage.sql
        .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'")
        .toArray();
      expect(tables).toEqual([]);
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });
});
