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

/**
 * Waits until D1's rollups (written by the telemetry consumer from the object's per-second rows) count `count`
 * events for the session; returns the count they add up to.
 */
export function waitForStoredEvents(id: string, count: number) {
  return vi.waitFor(
    async () => {
      const row = await env.DB.prepare(
        "SELECT coalesce(sum(event_count), 0) AS n FROM cursor_rollups WHERE session_id = ?",
      )
        .bind(id)
        .first<{ n: number }>();
      if ((row?.n ?? 0) < count) throw new Error(`only ${row?.n} of ${count} events in the rollups`);
      return row!.n;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** Every stored event of a session, through GET /events, page by page. */
export async function allEvents(id: string, token: string, limit = 1000) {
  const out: { seq: number; x: number; y: number; t: number }[] = [];
  let after = -1;
  for (;;) {
    const res = await api(`/cursor/sessions/${id}/events?after=${after}&limit=${limit}`, { token });
    expect(res.status).toBe(200);
    const page = (await res.json()) as { items: typeof out; next_after: number | null };
    out.push(...page.items);
    if (page.next_after === null) return out;
    after = page.next_after;
  }
}
