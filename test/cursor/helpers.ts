import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { type ServerFrame, ServerFrameSchema } from "../../src/cursor/protocol";
import { api, call } from "../helpers";

/** Events numbered as the session numbers them (gapless from `firstSeq`), for building queue messages in tests. */
export function numbered(points: readonly { x: number; y: number; t: number }[], firstSeq = 0) {
  return points.map((p, i) => ({ seq: firstSeq + i, x: p.x, y: p.y, t: p.t }));
}

export type Created = {
  id: string;
  token: string;
  server_time: number;
  ws_url: string;
  sample_interval_ms: number;
  batch_interval_ms: number;
};

export async function createSession(label?: string): Promise<Created> {
  const res = await api("/cursor/sessions", {
    method: "POST",
    json: { viewport: { width: 1280, height: 800 }, label },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as Created;
}

export function postEvents(id: string, token: string | undefined, events: unknown) {
  return api(`/cursor/sessions/${id}/events`, { method: "POST", token, json: { events } });
}

/** A time on a 10 s boundary, safely in the past, so a test's events fall in known buckets. */
export function alignedPast(secondsAgo = 120): number {
  return Math.floor((Date.now() - secondsAgo * 1000) / 10_000) * 10_000;
}

export type Viewer = {
  ws: WebSocket;
  frames: ServerFrame[];
  /** Resolves with the n-th frame (0-based) once it has arrived. */
  frame(n: number): Promise<ServerFrame>;
  closed: Promise<{ code: number; reason: string }>;
};

/** A real WebSocket upgrade through the Worker's fetch handler; every frame is checked against the protocol schema. */
export async function openViewer(pathOrUrl: string): Promise<Viewer> {
  const url = new URL(pathOrUrl, "http://localhost");
  const res = await call(`${url.pathname}${url.search}`, { headers: { Upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const frames: ServerFrame[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (event) => resolve({ code: event.code, reason: event.reason }));
  });
  ws.addEventListener("message", (event) => {
    if (event.data === "pong") return;
    frames.push(ServerFrameSchema.parse(JSON.parse(event.data as string)));
  });
  ws.accept();
  return {
    ws,
    frames,
    closed,
    frame: (n) =>
      vi.waitFor(
        () => {
          const f = frames[n];
          if (!f) throw new Error(`frame ${n} not received yet (have ${frames.length})`);
          return f;
        },
        { timeout: 5000, interval: 10 },
      ),
  };
}

/** Waits until the analytics consumer has written the session's events to D1. */
export function waitForStoredEvents(id: string, count: number) {
  return vi.waitFor(
    async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM cursor_events WHERE session_id = ?")
        .bind(id)
        .first<{ n: number }>();
      if ((row?.n ?? 0) < count) throw new Error(`only ${row?.n} of ${count} events stored`);
      return row!.n;
    },
    { timeout: 10_000, interval: 50 },
  );
}
