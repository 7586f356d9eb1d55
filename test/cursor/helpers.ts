import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import type { SessionDeps } from "../../src/cursor/cursor-session";
import {
  type AckFrame,
  AckFrameSchema,
  type CursorRollupsMessage,
  type NackFrame,
  NackFrameSchema,
  type ServerFrame,
  ServerFrameSchema,
} from "../../src/cursor/protocol";
import { settings } from "../../src/lib/settings";
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

/**
 * A time on a 10 s boundary 45 to 55 s ago: a test's events from there fall in known buckets and within the life of a
 * session created just now (which reaches CLOCK_SKEW_MS before its creation).
 */
export function alignedRecent(): number {
  return Math.ceil((Date.now() - 55_000) / 10_000) * 10_000;
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
    const data = JSON.parse(event.data as string) as { type: string };
    // Answers to the socket's own messages (the page's socket gets them) are not frames: see openWriter.
    if (data.type === "ack" || data.type === "nack") return;
    frames.push(ServerFrameSchema.parse(data));
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
 * Waits until D1's rollups (written by the telemetry consumer from the object's events) count `count` events for the
 * session; returns the count they add up to.
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

/** The session's own socket (as its page holds it), collecting every ack and nack; `closed` resolves with the code. */
export async function openWriter(wsUrl: string) {
  const url = new URL(wsUrl, "http://localhost");
  const res = await call(url.pathname + url.search, { headers: { Upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const answers: (AckFrame | NackFrame)[] = [];
  let code: number | null = null;
  const closed = new Promise<number>((resolve) =>
    ws.addEventListener("close", (event) => {
      code = event.code;
      resolve(event.code);
    }),
  );
  ws.addEventListener("message", (event) => {
    const data = JSON.parse(event.data as string) as { type: string };
    if (data.type === "ack") answers.push(AckFrameSchema.parse(data));
    if (data.type === "nack") answers.push(NackFrameSchema.parse(data));
  });
  ws.accept();
  return {
    ws,
    answers,
    closed,
    code: () => code,
    /** Waits until `n` answers have arrived, or the socket closed. */
    answered: (n: number) =>
      vi.waitFor(
        () => {
          if (answers.length < n && code === null) throw new Error(`${answers.length} of ${n} answers`);
        },
        { timeout: 5000, interval: 5 },
      ),
  };
}

/** A telemetry queue that is down, counting the sends it refused. */
export function queueDown() {
  const queue = {
    attempts: 0,
    send: () => {
      queue.attempts += 1;
      return Promise.reject(new Error("queue down"));
    },
  };
  return queue;
}

/** A telemetry queue that keeps what is sent (and sends nothing on). */
export function queueKept() {
  const sent: CursorRollupsMessage[] = [];
  return {
    sent,
    send: (message: CursorRollupsMessage) => {
      sent.push(message);
      return Promise.resolve();
    },
  };
}

/** The settings the object runs with, some replaced (its parts take them as numbers, so no env is changed). */
export function settingsWith(over: Partial<SessionDeps["settings"]> = {}): SessionDeps["settings"] {
  return { ...settings(env), ...over };
}

/** A 60 Hz pointer path: `seconds` seconds from t0, in batches of 6 (the page's 100 ms). */
export function pointer60(t0: number, seconds: number) {
  const events = Array.from({ length: seconds * 60 }, (_, i) => ({
    x: Math.round((400 + 200 * Math.sin(i / 20)) * 2) / 2,
    y: Math.round(300 + 150 * Math.cos(i / 13)),
    t: t0 + Math.round((i * 1000) / 60),
  }));
  return { events, batches: chunks(events, 6) };
}

/** `n` events `everyMs` apart from t0, wandering over a 1280 × 800 viewport in hundredths, in batches of 1,000. */
export function sparse(t0: number, n: number, everyMs: number) {
  const events = Array.from({ length: n }, (_, i) => ({
    x: Math.round(64_000 + 60_000 * Math.sin(i / 7)) / 100,
    y: Math.round(40_000 + 35_000 * Math.cos(i / 5)) / 100,
    t: t0 + i * everyMs,
  }));
  return { events, batches: chunks(events, 1000) };
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
