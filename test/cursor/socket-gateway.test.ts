import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { cursorSessionStub } from "../../src/cursor/cursor-session";
import { MAX_BATCH_MESSAGE_BYTES } from "../../src/cursor/protocol";
import {
  MAX_VIEWER_MESSAGES,
  MAX_VIEWERS,
  parseClientMessage,
  REFUSED_BYTES_PER_EVENT,
} from "../../src/cursor/socket-gateway";
import { settings } from "../../src/lib/settings";
import { api, call, createUser } from "../helpers";
import { allEvents, createSession, openViewer, openWriter, postEvents } from "./helpers";

const stub = (id: string) => cursorSessionStub(env, id);

describe("frames to every socket", () => {
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

  it("answers ping with pong (auto-response) and sends the totals again on { type: hello }", async () => {
    const s = await createSession();
    const viewer = await openViewer(s.ws_url);
    await viewer.frame(0);
    const pong = new Promise<string>((resolve) =>
      viewer.ws.addEventListener("message", (e) => e.data === "pong" && resolve(e.data)),
    );
    viewer.ws.send("ping");
    expect(await pong).toBe("pong");
    viewer.ws.send(JSON.stringify({ type: "hello" }));
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

    const admin = await createUser("admin");
    const chatty = await openViewer(`/api/v1/cursor/sessions/${s.id}/live?token=${admin.token}`);
    await chatty.frame(0);
    for (let i = 0; i <= MAX_VIEWER_MESSAGES; i++) chatty.ws.send(JSON.stringify({ type: "hello" }));
    expect((await chatty.closed).code).toBe(1008);
    expect(chatty.frames).toHaveLength(MAX_VIEWER_MESSAGES + 1);
  });
});

describe("batches over the page's socket", () => {
  it("acks in order, refuses a resent batch with next_seq, refuses writes from a watching admin", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    const t = s.server_time - 5000;
    const batch = (first: number, n: number) =>
      JSON.stringify({
        type: "events",
        first_seq: first,
        events: Array.from({ length: n }, (_, i) => ({ x: first + i, y: 0, t: t + first + i })),
      });
    page.ws.send(batch(0, 6));
    page.ws.send(batch(6, 6));
    page.ws.send(batch(6, 6)); // resent after a lost ack
    page.ws.send('{"type":"events","first_seq":12,"events":[]}');
    await page.answered(4);
    expect(page.answers[0]).toMatchObject({ type: "ack", first_seq: 0, last_seq: 5 });
    expect(page.answers[1]).toMatchObject({ type: "ack", first_seq: 6, last_seq: 11, event_count: 12 });
    expect(page.answers[2]).toMatchObject({ type: "nack", status: 409, next_seq: 12 });
    expect(page.answers[3]).toMatchObject({ type: "nack", first_seq: 12, status: 422, errors: [{ path: "events" }] });
    expect((await allEvents(s.id, s.token)).map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i));

    const admin = await createUser("admin");
    const watcher = await openWriter(`/api/v1/cursor/sessions/${s.id}/live?token=${admin.token}`);
    watcher.ws.send(batch(12, 1));
    await watcher.answered(1);
    expect(watcher.answers[0]).toMatchObject({ type: "nack", status: 403 });
    expect((await stub(s.id).snapshot())?.event_count).toBe(12);
    page.ws.close(1000);
    watcher.ws.close(1000);
  });

  it("messages are closed schemas: an unknown field or __proto__ is the 422 REST answers, nothing stored", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    const events = [{ x: 1, y: 1, t: s.server_time }];
    const bodies = [
      `{"type":"events","first_seq":0,"events":${JSON.stringify(events)},"z":1}`,
      `{"type":"events","first_seq":0,"events":${JSON.stringify(events)},"__proto__":{"x":1}}`,
      `{"type":"events","first_seq":0,"events":[{"x":1,"y":1,"t":${s.server_time},"evil":true}]}`,
      `{"type":"hello","z":1}`,
      `{"type":"steal"}`,
    ];
    for (const body of bodies) page.ws.send(body);
    await page.answered(bodies.length);
    // REST, given the same body without `type`, names the same field.
    const rest = (await (
      await api(`/cursor/sessions/${s.id}/events`, {
        method: "POST",
        token: s.token,
        body: `{"first_seq":0,"events":${JSON.stringify(events)},"z":1}`,
        headers: { "content-type": "application/json" },
      })
    ).json()) as { status: number; errors: { path: string }[] };
    expect(rest.status).toBe(422);
    expect(page.answers.map((a) => a.type === "nack" && [a.status, a.errors?.[0]?.path])).toEqual([
      [422, rest.errors[0]!.path],
      [422, "(body)"],
      [422, "events.0"],
      [422, "(body)"],
      [422, "type"],
    ]);
    expect((await stub(s.id).snapshot())?.event_count).toBe(0);
    page.ws.close(1000);
  });

  it("2,000 junk frames of 100 KB: the writer's budget pays for a few, then the socket is closed (1008)", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    const junk = `{${"x".repeat(100 * 1024)}`;
    let sent = 0;
    for (; sent < 2000 && page.code() === null; sent++) {
      page.ws.send(junk);
      await page.answered(sent + 1);
    }
    expect(await page.closed).toBe(1008);
    // The budget (CURSOR_MAX_EVENTS_BURST events) pays for burst / (100 KB / REFUSED_BYTES_PER_EVENT) frames.
    const paid = Math.floor(settings(env).cursorMaxEventsBurst / Math.ceil((100 * 1024 + 1) / REFUSED_BYTES_PER_EVENT));
    expect(sent).toBe(paid + 1);
    expect(page.answers.every((a) => a.type === "nack" && a.status === 400)).toBe(true);
    // It counted against the writer's budget: a batch the untouched budget would take is refused for the rate.
    const thousand = Array.from({ length: 1000 }, (_, i) => ({ x: i, y: 0, t: s.server_time + i }));
    const res = await postEvents(s.id, s.token, thousand);
    expect(res.status).toBe(429);
    expect((await stub(s.id).snapshot())?.event_count).toBe(0);
  }, 60_000);

  it("resends of a batch the session has count against the window too: valid-shaped junk is not free", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    const batch = JSON.stringify({ type: "events", first_seq: 0, events: [{ x: 1, y: 1, t: s.server_time }] });
    page.ws.send(batch);
    await page.answered(1);
    expect(page.answers[0]).toMatchObject({ type: "ack", last_seq: 0 });
    // The page resends at most its 8 unacknowledged batches on a new socket; a loop of resends is closed.
    let sent = 1;
    for (; sent < 200 && page.code() === null; sent++) {
      page.ws.send(batch);
      await page.answered(sent + 1);
    }
    expect(await page.closed).toBe(1008);
    expect(sent).toBe(1 + MAX_VIEWER_MESSAGES + 1);
    expect(page.answers.slice(1).every((a) => a.type === "nack" && a.status === 409 && a.next_seq === 1)).toBe(true);
    expect((await stub(s.id).snapshot())?.event_count).toBe(1);
  });

  it("small junk counts against the socket's window: the one past it closes the socket (1008)", async () => {
    const s = await createSession();
    const page = await openWriter(s.ws_url);
    for (let i = 0; i <= MAX_VIEWER_MESSAGES; i++) page.ws.send(`noise ${i}`);
    expect(await page.closed).toBe(1008);
    expect(page.answers).toHaveLength(MAX_VIEWER_MESSAGES);
  });
});

describe("parseClientMessage", () => {
  it("tells malformed JSON (400) from an invalid message (422), and keeps a first_seq it can read", () => {
    expect(parseClientMessage("{")).toMatchObject({ ok: false, status: 400, firstSeq: null });
    expect(parseClientMessage(new ArrayBuffer(4))).toMatchObject({ ok: false, status: 400 });
    expect(parseClientMessage('{"type":"events","first_seq":4,"events":[]}')).toMatchObject({
      ok: false,
      status: 422,
      firstSeq: 4,
    });
    expect(parseClientMessage('{"type":"hello"}')).toEqual({ ok: true, message: { type: "hello" } });
  });
});

describe("the upgrade", () => {
  it(`refuses a socket beyond ${MAX_VIEWERS} per session (429), and any to an ended session (409)`, async () => {
    const s = await createSession();
    const upgrade = () =>
      call(`/api/v1/cursor/sessions/${s.id}/live?token=${s.token}`, { headers: { Upgrade: "websocket" } });
    const open: WebSocket[] = [];
    for (let i = 0; i < MAX_VIEWERS; i++) {
      const res = await upgrade();
      expect(res.status).toBe(101);
      res.webSocket!.accept();
      open.push(res.webSocket!);
    }
    const over = await upgrade();
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe("10");
    expect((await api(`/cursor/sessions/${s.id}`, { method: "DELETE", token: s.token })).status).toBe(204);
    expect((await upgrade()).status).toBe(409);
  });
});
