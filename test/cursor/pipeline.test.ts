import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { archiveKey } from "../../src/cursor/archive";
import { type CursorSession, cursorSessionStub } from "../../src/cursor/cursor-session";
import { AckFrameSchema, NackFrameSchema } from "../../src/cursor/protocol";
import { api, call, createUser } from "../helpers";
import { allEvents, createSession, waitForStoredEvents } from "./helpers";

/** A 60 Hz pointer path: `seconds` seconds from t0, in batches of 6 (the page's 100 ms). */
function path60(t0: number, seconds: number) {
  const events = Array.from({ length: seconds * 60 }, (_, i) => ({
    x: Math.round((400 + 200 * Math.sin(i / 20)) * 2) / 2,
    y: Math.round(300 + 150 * Math.cos(i / 13)),
    t: t0 + Math.round((i * 1000) / 60),
  }));
  const batches: (typeof events)[] = [];
  for (let i = 0; i < events.length; i += 6) batches.push(events.slice(i, i + 6));
  return { events, batches };
}

/** D1's rollups of a session against the sums of the object's own per-second rows, bucket by bucket. */
async function rollupsMatchObject(id: string) {
  const d1 = await env.DB.prepare(
    "SELECT bucket_start, event_count, distance, last_seq FROM cursor_rollups WHERE session_id = ? ORDER BY bucket_start",
  )
    .bind(id)
    .all<{ bucket_start: number; event_count: number; distance: number; last_seq: number }>();
  const own = await runInDurableObject(cursorSessionStub(env, id), (_i: CursorSession, state) =>
    state.storage.sql
      .exec<{ bucket_start: number; event_count: number; distance: number; last_seq: number }>(
        `SELECT (second / 10) * 10 AS bucket_start, sum(last_seq - first_seq + 1) AS event_count,
           sum(distance) AS distance, max(last_seq) AS last_seq FROM seconds GROUP BY second / 10 ORDER BY 1`,
      )
      .toArray(),
  );
  expect(d1.results.map((r) => ({ ...r, distance: Math.round(r.distance * 1e6) }))).toEqual(
    own.map((r) => ({ ...r, distance: Math.round(r.distance * 1e6) })),
  );
}

describe("the pipeline under eviction and redelivery", () => {
  it("object evicted between batches: every event once, in order; D1 rollups equal the object's seconds", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const { events, batches } = path60(s.server_time - 20_000, 12);
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
    const { events, batches } = path60(s.server_time - 30_000, 3);
    await runInDurableObject(stub, async (instance: CursorSession) => {
      const self = instance as unknown as { env: Env };
      self.env = {
        ...env,
        TELEMETRY_QUEUE: { send: () => Promise.reject(new Error("queue down")) } as unknown as Queue,
      };
      for (const batch of batches) expect((await instance.ingest(batch, s.server_time)).ok).toBe(true);
    });
    // Evicted with everything unsent: the new instance (with the real queue) sends it from storage on its alarm.
    await vi.waitFor(async () => expect((await stub.snapshot())?.unflushed_events).toBe(events.length));
    await evictDurableObject(stub);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stub.snapshot())?.unflushed_events).toBe(0);
    expect(await waitForStoredEvents(s.id, events.length)).toBe(events.length);
    // A redelivery of everything (the consumer is at-least-once): the same rows again change nothing.
    const before = await env.DB.prepare("SELECT * FROM cursor_rollups WHERE session_id = ? ORDER BY bucket_start")
      .bind(s.id)
      .all();
    await runInDurableObject(stub, async (_i: CursorSession, state) => {
      state.storage.sql.exec("UPDATE session SET flushed_seq = -1");
      (_i as unknown as { cached: undefined }).cached = undefined;
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await env.DB.prepare("SELECT * FROM cursor_rollups WHERE session_id = ? ORDER BY bucket_start")
      .bind(s.id)
      .all();
    expect(after.results).toEqual(before.results);
    await rollupsMatchObject(s.id);
  });

  it("a moving session sends at most one message a second, one bucket each", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const sent: unknown[] = [];
    let started = 0;
    const { batches } = path60(s.server_time - 40_000, 25);
    await runInDurableObject(stub, async (instance: CursorSession) => {
      const self = instance as unknown as { env: Env };
      self.env = {
        ...env,
        TELEMETRY_QUEUE: {
          send: (m: unknown) => {
            sent.push(m);
            return Promise.resolve();
          },
        } as unknown as Queue,
      };
      // 25 s of events in about 2.5 s of wall time: the flush interval, not the event rate, sets the pace.
      started = Date.now();
      for (const batch of batches) {
        expect((await instance.ingest(batch, Date.now())).ok).toBe(true);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    // Counted when the batches stop: at most one flush a second while they came, each a single bucket.
    const elapsed = Date.now() - started;
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.length).toBeLessThanOrEqual(Math.ceil(elapsed / 1000) + 1);
    for (const m of sent as { rollups: unknown[] }[]) expect(m.rollups).toHaveLength(1);
  });
});

describe("the archive", () => {
  it("is written at the end, retried when R2 fails, and /events pages are identical before and after", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const { events, batches } = path60(s.server_time - 10_000, 2);
    for (const batch of batches) expect((await stub.ingest(batch, s.server_time)).ok).toBe(true);
    const before = await allEvents(s.id, s.token, 7);
    await runInDurableObject(stub, async (instance: CursorSession) => {
      const self = instance as unknown as { env: Env };
      self.env = { ...env, ARCHIVE: { put: () => Promise.reject(new Error("R2 down")) } as unknown as R2Bucket };
      await instance.end();
      expect((await instance.snapshot())?.archived_at).toBeNull();
      self.env = env;
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
});

describe("batches over the page's socket", () => {
  it("acks in order, refuses a resent batch with next_seq, refuses writes from a watching admin", async () => {
    const s = await createSession();
    // ws_url is relative unless PUBLIC_ORIGIN is set; resolve it as the page does.
    const url = new URL(s.ws_url, "http://localhost");
    const res = await call(url.pathname + url.search, {
      headers: { Upgrade: "websocket" },
    });
    const ws = res.webSocket!;
    const answers: unknown[] = [];
    ws.addEventListener("message", (e) => {
      const data = JSON.parse(e.data as string) as { type: string };
      if (data.type === "ack" || data.type === "nack") answers.push(data);
    });
    ws.accept();
    const t = s.server_time - 5000;
    const batch = (first: number, n: number) =>
      JSON.stringify({
        type: "events",
        first_seq: first,
        events: Array.from({ length: n }, (_, i) => ({ x: first + i, y: 0, t: t + first + i })),
      });
    ws.send(batch(0, 6));
    ws.send(batch(6, 6));
    ws.send(batch(6, 6)); // resent after a lost ack
    ws.send('{"type":"events","first_seq":12,"events":[]}');
    await vi
      .waitFor(() => expect(answers).toHaveLength(4))
      .catch((error) => {
        throw new Error(`${error}: ${JSON.stringify(answers)}`);
      });
    expect(AckFrameSchema.parse(answers[0])).toMatchObject({ first_seq: 0, last_seq: 5 });
    expect(AckFrameSchema.parse(answers[1])).toMatchObject({ first_seq: 6, last_seq: 11, event_count: 12 });
    expect(NackFrameSchema.parse(answers[2])).toMatchObject({ status: 409, next_seq: 12 });
    expect(NackFrameSchema.parse(answers[3])).toMatchObject({ status: 422 });
    expect((await allEvents(s.id, s.token)).map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));

    const admin = await createUser("admin");
    const watch = await call(`/api/v1/cursor/sessions/${s.id}/live?token=${admin.token}`, {
      headers: { Upgrade: "websocket" },
    });
    const aws = watch.webSocket!;
    const refused = new Promise<unknown>((resolve) =>
      aws.addEventListener("message", (e) => {
        const data = JSON.parse(e.data as string) as { type: string };
        if (data.type === "nack") resolve(data);
      }),
    );
    aws.accept();
    aws.send(batch(12, 1));
    expect(NackFrameSchema.parse(await refused)).toMatchObject({ status: 403 });
    expect((await cursorSessionStub(env, s.id).snapshot())?.event_count).toBe(12);
    ws.close(1000);
  });

  it("stores at most 16 bytes an event at 60 Hz", async () => {
    const id = crypto.randomUUID();
    const stub = cursorSessionStub(env, id);
    const t0 = 1_767_225_600_000;
    await stub.init(id, t0);
    const emptySize = (await stub.snapshot())!.storage_bytes;
    const { events, batches } = path60(t0, 60);
    for (const batch of batches) expect((await stub.ingest(batch, batch.at(-1)!.t)).ok).toBe(true);
    const snapshot = (await stub.snapshot())!;
    expect((snapshot.storage_bytes - emptySize) / events.length).toBeLessThanOrEqual(16);
    // Rows written per batch: the session row, the second's row and its index entry (a batch that opens a new
    // second while finishing the last one writes that second too).
    expect(snapshot.rows_written / snapshot.batches).toBeLessThanOrEqual(4);
  }, 30_000);
});
