import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { allEvents, createSession, postEvents, waitForStoredEvents } from "./helpers";

describe("CursorSession, the calls the Worker makes", () => {
  it("keeps the last point, the totals and what D1 was told in its session row", async () => {
    const s = await createSession();
    const t = s.server_time;
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t },
      { x: 3, y: 4, t: t + 10 },
    ]);
    const stub = cursorSessionStub(env, s.id);
    await runInDurableObject(stub, (_instance: CursorSession, state) => {
      const row = state.storage.sql.exec("SELECT * FROM session").one();
      expect(row).toMatchObject({ session_id: s.id, last_x: 3, last_y: 4, last_t: t + 10, total_distance: 5 });
      expect(row).toMatchObject({ event_count: 2, second_events: 2 });
    });
    // The rollups are handed to the queue shortly after the answer: nothing is left unflushed.
    await vi.waitFor(async () => expect((await stub.snapshot())?.unflushed_events).toBe(0), { timeout: 8000 });
  }, 20_000);

  it("survives eviction: the next batch continues the path and the totals", async () => {
    const s = await createSession();
    const t = s.server_time;
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t },
      { x: 30, y: 40, t: t + 100 },
    ]);
    const stub = cursorSessionStub(env, s.id);
    await evictDurableObject(stub);
    const res = await postEvents(s.id, s.token, [{ x: 60, y: 80, t: t + 200 }]);
    expect(await res.json()).toMatchObject({ first_seq: 2, distance: 50, total_distance: 100, event_count: 3 });
    // And an out-of-order batch is still recognised after the eviction.
    await evictDurableObject(stub);
    expect((await postEvents(s.id, s.token, [{ x: 0, y: 0, t: t + 150 }])).status).toBe(422);
    expect(await stub.snapshot()).toMatchObject({ total_distance: 100, event_count: 3 });
    expect(await waitForStoredEvents(s.id, 3)).toBe(3);
    expect((await allEvents(s.id, s.token)).map((e) => e.seq)).toEqual([0, 1, 2]);
  }, 20_000);

  it("init is idempotent; an object never initialised knows no session", async () => {
    const id = crypto.randomUUID();
    const stub = cursorSessionStub(env, id);
    expect(await stub.snapshot()).toBeNull();
    expect(await stub.ingest([{ x: 0, y: 0, t: Date.now() }])).toEqual({ ok: false, code: "not_found" });
    expect(await stub.events(-1, 10)).toBeNull();
    expect(await stub.end()).toEqual({ found: false, ended_at: null });
    await stub.init(id, 1_000);
    await stub.init(id, 2_000);
    expect(await stub.snapshot()).toMatchObject({ session_id: id, created_at: 1_000, event_count: 0 });
  });
});
