import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import {
  type CursorSession,
  cursorSessionStub,
  MAX_VIEWER_MESSAGES,
  RETRY_MS,
  SAFETY_ALARM_MS,
} from "../../src/cursor/cursor-session";
import { MAX_BATCH_MESSAGE_BYTES } from "../../src/cursor/protocol";
import { allEvents, createSession, openViewer, postEvents, waitForStoredEvents } from "./helpers";

describe("CursorSession state", () => {
  it("keeps the last point, totals, seq counter and open second in its SQLite storage", async () => {
    const s = await createSession();
    const t = s.server_time;
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t },
      { x: 3, y: 4, t: t + 10 },
    ]);
    const stub = cursorSessionStub(env, s.id);
    await runInDurableObject(stub, async (_instance: CursorSession, state) => {
      const row = state.storage.sql.exec("SELECT * FROM session").one();
      expect(row).toMatchObject({ session_id: s.id, last_x: 3, last_y: 4, last_t: t + 10, total_distance: 5 });
      expect(row.next_seq).toBe(2);
      expect(JSON.parse(row.open_second as string)).toMatchObject({ event_count: 2, last_seq: 1 });
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
    expect(await stub.snapshot()).toMatchObject({ total_distance: 100, event_count: 3, next_seq: 3 });
    expect(await waitForStoredEvents(s.id, 3)).toBe(3);
    expect((await allEvents(s.id, s.token)).map((e) => e.seq)).toEqual([0, 1, 2]);
  }, 20_000);

  it("keeps its rollups pending when the queue fails, and the alarm delivers them later", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const t = s.server_time;
    await runInDurableObject(stub, async (instance: CursorSession, state) => {
      const real = env.TELEMETRY_QUEUE;
      // Swap the object's queue binding for one that is down.
      const self = instance as unknown as { env: Env };
      let attempts = 0;
      self.env = {
        ...env,
        TELEMETRY_QUEUE: {
          send: () => {
            attempts += 1;
            return Promise.reject(new Error("queue down"));
          },
        } as unknown as Queue,
      };
      const started = Date.now();
      const result = await instance.ingest([
        { x: 0, y: 0, t },
        { x: 0, y: 7, t: t + 10 },
      ]);
      // The answer does not depend on the queue.
      expect(result).toMatchObject({ ok: true, total_distance: 7 });
      // The failed send leaves the message in the outbox and brings the alarm forward to a quick retry.
      await vi.waitFor(
        async () => {
          expect(attempts).toBe(1);
          // The flush interval, then the retry delay: sooner than the safety alarm would come round again.
          expect((await state.storage.getAlarm())! - started).toBeLessThan(2000 + RETRY_MS + 1000);
        },
        { timeout: 6000 },
      );
      expect((await instance.snapshot())?.unflushed_events).toBe(2);
      self.env = { ...env, TELEMETRY_QUEUE: real };
    });
    // Eviction between the failure and the retry loses nothing: the outbox is in SQLite.
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.unflushed_events).toBe(0);
    expect(await waitForStoredEvents(s.id, 2)).toBe(2);
  }, 20_000);
});

describe("CursorSession WebSockets", () => {
  it("every viewer gets every frame; a late viewer first gets the totals so far", async () => {
    const s = await createSession();
    const t = s.server_time;
    const a = await openViewer(s.ws_url);
    const b = await openViewer(s.ws_url);
    expect(await a.frame(0)).toMatchObject({ type: "hello", total_distance: 0, event_count: 0, last_point: null });
    await b.frame(0);
    await postEvents(s.id, s.token, [
      { x: 0, y: 0, t },
      { x: 6, y: 8, t: t + 100 },
    ]);
    await postEvents(s.id, s.token, [{ x: 6, y: 18, t: t + 200 }]);
    for (const viewer of [a, b]) {
      expect(await viewer.frame(1)).toMatchObject({ type: "frame", distance: 10, total_distance: 10, events: 2 });
      expect(await viewer.frame(2)).toMatchObject({ type: "frame", distance: 10, total_distance: 20, speed: 100 });
    }
    const late = await openViewer(s.ws_url);
    expect(await late.frame(0)).toMatchObject({
      type: "hello",
      total_distance: 20,
      event_count: 3,
      last_t: t + 200,
      last_point: { x: 6, y: 18 },
    });
    expect((await stub(s.id).snapshot())?.viewers).toBe(3);
    for (const v of [a, b, late]) v.ws.close(1000);
  });

  it("answers ping with pong (auto-response) and re-sends hello on request", async () => {
    const s = await createSession();
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    const pong = new Promise<string>((resolve) =>
      viewer.ws.addEventListener("message", (e) => e.data === "pong" && resolve(e.data)),
    );
    viewer.ws.send("ping");
    expect(await pong).toBe("pong");
    viewer.ws.send("hello");
    expect(await viewer.frame(1)).toMatchObject({ type: "hello", session_id: s.id });
    viewer.ws.close(1000);
  });

  it("hibernated sockets stay connected through an eviction and keep receiving frames", async () => {
    const s = await createSession();
    const t = s.server_time;
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    await postEvents(s.id, s.token, [{ x: 0, y: 0, t }]);
    await viewer.frame(1);
    await evictDurableObject(stub(s.id));
    await postEvents(s.id, s.token, [{ x: 0, y: 5, t: t + 50 }]);
    expect(await viewer.frame(2)).toMatchObject({ type: "frame", total_distance: 5, event_count: 2 });
    viewer.ws.close(1000);
  });

  it("closes a socket that sends oversized or too many messages", async () => {
    const s = await createSession();
    const big = await openViewer(s.ws_url);
    await big.frame(0);
    // The session's own socket also carries its batches, so its limit is a batch's size, not a viewer's.
    big.ws.send("x".repeat(MAX_BATCH_MESSAGE_BYTES + 1));
    expect((await big.closed).code).toBe(1009);

    const chatty = await openViewer(s.ws_url);
    await chatty.frame(0);
    for (let i = 0; i <= MAX_VIEWER_MESSAGES; i++) chatty.ws.send("noise");
    expect((await chatty.closed).code).toBe(1008);
  });
});

function stub(id: string) {
  return cursorSessionStub(env, id);
}

describe("CursorSession batches in flight and the outbox", () => {
  it("sets the safety alarm once while it is pending, not with every batch", async () => {
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

  it("applies batches sent with first_seq in seq order whatever order they arrive in", async () => {
    const s = await createSession();
    const t = s.server_time;
    const stub = cursorSessionStub(env, s.id);
    const batch = (i: number) => [
      { x: i * 10, y: 0, t: t + i * 10 },
      { x: i * 10 + 5, y: 0, t: t + i * 10 + 5 },
    ];
    // Third, then second, then first: the later ones wait for the gap to fill.
    const third = stub.ingest(batch(2), Date.now(), 4);
    const second = stub.ingest(batch(1), Date.now(), 2);
    const first = await stub.ingest(batch(0), Date.now(), 0);
    expect(first).toMatchObject({ ok: true, first_seq: 0, last_seq: 1 });
    expect(await second).toMatchObject({ ok: true, first_seq: 2, total_distance: 15 });
    expect(await third).toMatchObject({ ok: true, first_seq: 4, last_seq: 5, total_distance: 25, event_count: 6 });
    // A retry of an accepted batch is refused: nothing is applied twice.
    expect(await stub.ingest(batch(1), Date.now(), 2)).toMatchObject({ ok: false, code: "duplicate", next_seq: 6 });
    expect(await stub.snapshot()).toMatchObject({ event_count: 6, next_seq: 6 });
    expect(await waitForStoredEvents(s.id, 6)).toBe(6);
    expect((await allEvents(s.id, s.token)).map((e) => e.x)).toEqual([0, 5, 10, 15, 20, 25]);
  }, 20_000);

  it("a batch whose predecessors never arrive is refused after the wait, and the session is unchanged", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const result = await stub.ingest([{ x: 1, y: 1, t: s.server_time }], Date.now(), 5);
    expect(result).toMatchObject({ ok: false, code: "gap", first_seq: 5, next_seq: 0 });
    expect(await stub.snapshot()).toMatchObject({ event_count: 0, next_seq: 0 });
  });
});
