import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cursorSessionStub } from "../../src/cursor/cursor-session";
import { allEvents, createSession, waitForStoredEvents } from "./helpers";

describe("batches in flight (first_seq)", () => {
  it("are applied in seq order whatever order they arrive in; a retry of an accepted batch is refused", async () => {
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
    expect(await stub.ingest(batch(1), Date.now(), 2)).toMatchObject({ ok: false, code: "duplicate", next_seq: 6 });
    expect(await stub.snapshot()).toMatchObject({ event_count: 6 });
    expect(await waitForStoredEvents(s.id, 6)).toBe(6);
    expect((await allEvents(s.id, s.token)).map((e) => e.x)).toEqual([0, 5, 10, 15, 20, 25]);
  }, 20_000);

  it("a batch whose predecessors never arrive is refused after the wait, and the session is unchanged", async () => {
    const s = await createSession();
    const stub = cursorSessionStub(env, s.id);
    const result = await stub.ingest([{ x: 1, y: 1, t: s.server_time }], Date.now(), 5);
    expect(result).toMatchObject({ ok: false, code: "gap", first_seq: 5, next_seq: 0 });
    expect(await stub.snapshot()).toMatchObject({ event_count: 0 });
  });
});
