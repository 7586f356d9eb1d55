// Cursor pipeline, through the page's own protocol (batches over the session's WebSocket, acked per batch):
// 1. one session: batches of 8 events every 20 ms (400 events/s, inside the default per-session limit of 500/s),
//    a second socket watching; send → ack and send → frame latency.
// 2. many sessions: N sessions at 60 Hz (6 events every 100 ms, as the page sends), bounded in time; then every
//    session is ended, and what each stored (/stats), what D1 got (rollups) and what was sent are compared: events
//    lost and doubled must be 0. Per moving session-second: Worker invocations, Durable Object requests, queue
//    messages and D1 rows written (from D1's own result metadata, logged by the telemetry consumer). Storage bytes
//    per event are measured inside workerd by test/cursor/event-store.test.ts (the object's own databaseSize).
// Event times run with the wall clock from each session's start: a session refuses times outside its life.
// No limit is raised for these runs: both stay inside the defaults a page meets.
import { performance } from "node:perf_hooks";
import { percentile, request, round } from "../lib/load.mjs";
import { pollUntil, sleep } from "../lib/proc.mjs";

export const TARGETS = { p50_ms: 5, p99_ms: 25, lost: 0, doubled: 0 };
// 40: about the most sessions this 2-core machine keeps near a 50 ms p99 with the load generator on the same cores;
// within a full bench run (after the growth figure) the tail is longer than in a run of its own.
const SESSIONS = Math.max(1, Number(process.env.BENCH_CURSOR_SESSIONS ?? 40));

function socketUrl(rt, id, token) {
  return `${rt.baseUrl.replace(/^http/, "ws")}/api/v1/cursor/sessions/${id}/live?token=${encodeURIComponent(token)}`;
}

/** A socket that resolves once the session's hello arrived; every later frame goes to `onFrame`. */
function openSocket(url, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("socket: no hello frame within 10 s"));
    }, 10_000);
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data));
      if (frame.type === "hello") {
        clearTimeout(timer);
        resolve(ws);
      } else onFrame(frame, performance.now());
    });
    ws.addEventListener("error", () => {
      clearTimeout(timer);
      reject(new Error("socket: WebSocket error"));
    });
  });
}

async function createSession(rt, label, index) {
  const res = await fetch(`${rt.baseUrl}/api/v1/cursor/sessions`, {
    method: "POST",
    // A client address per session: creation is limited per address (20 a minute), as many people would open it.
    headers: { "content-type": "application/json", "cf-connecting-ip": `192.0.2.${index % 250}` },
    body: JSON.stringify({ viewport: { width: 1920, height: 1080 }, label }),
  });
  if (res.status !== 201) throw new Error(`POST /cursor/sessions answered ${res.status}: ${await res.text()}`);
  return res.json();
}

/** A pointer walking: `n` events from (x, y, t), `stepMs` apart (60 Hz unless said otherwise). */
function walk(state, n, stepMs = 1000 / 60) {
  const events = [];
  for (let i = 0; i < n; i++) {
    state.x = Math.min(1919, Math.max(0, state.x + Math.round(Math.random() * 40 - 20) / 2));
    state.y = Math.min(1079, Math.max(0, state.y + Math.round(Math.random() * 40 - 20) / 2));
    state.i += 1;
    events.push({ x: state.x, y: state.y, t: state.t0 + Math.round(state.i * stepMs) });
  }
  return events;
}

async function singleSession(rt, durationSeconds) {
  const { id, token } = await createSession(rt, "npm run bench: one session", 0);
  const sentAt = new Map(); // last seq of a batch -> when it was sent
  const ackLatencies = [];
  const frameLatencies = [];
  const viewer = await openSocket(socketUrl(rt, id, token), (frame, at) => {
    if (frame.type !== "frame") return;
    const sent = sentAt.get(frame.event_count - 1);
    if (sent !== undefined) frameLatencies.push(at - sent);
  });
  let refused = 0;
  const writer = await openSocket(socketUrl(rt, id, token), (frame, at) => {
    if (frame.type === "ack") {
      const sent = sentAt.get(frame.last_seq);
      if (sent !== undefined) ackLatencies.push(at - sent);
    } else if (frame.type === "nack") refused += 1;
  });
  const state = { x: 960, y: 540, i: 0, t0: Date.now() };
  let seq = 0;
  const started = performance.now();
  try {
    while (performance.now() - started < durationSeconds * 1000) {
      const events = walk(state, 8, 2.5); // 8 events every 20 ms: 2.5 ms apart, with the wall clock
      sentAt.set(seq + events.length - 1, performance.now());
      writer.send(JSON.stringify({ type: "events", first_seq: seq, events }));
      seq += events.length;
      await sleep(20);
    }
    await pollUntil(async () => ackLatencies.length + refused >= sentAt.size || null, {
      timeoutMs: 5_000,
      intervalMs: 50,
    });
  } finally {
    writer.close();
    viewer.close();
  }
  const elapsed = (performance.now() - started) / 1000;
  return {
    batch_size: 8,
    batches: sentAt.size,
    refused,
    events_per_s: round(seq / elapsed, 0),
    ack_latency_p50_ms: round(percentile(ackLatencies, 50), 2),
    ack_latency_p99_ms: round(percentile(ackLatencies, 99), 2),
    frame_latency_p50_ms: round(percentile(frameLatencies, 50), 2),
    frame_latency_p99_ms: round(percentile(frameLatencies, 99), 2),
  };
}

async function manySessions(rt, durationSeconds) {
  const sessions = [];
  for (let i = 0; i < SESSIONS; i++) sessions.push(await createSession(rt, `npm run bench: ${i}`, i + 1));
  const latencies = [];
  let refused = 0;
  const runs = await Promise.all(
    sessions.map(async (s) => {
      const run = { ...s, sent: 0, acked: 0, sentAt: new Map(), ws: null };
      run.ws = await openSocket(socketUrl(rt, s.id, s.token), (frame, at) => {
        if (frame.type === "ack") {
          run.acked = frame.last_seq + 1;
          const sent = run.sentAt.get(frame.last_seq);
          if (sent !== undefined) latencies.push(at - sent);
          run.sentAt.delete(frame.last_seq);
        } else if (frame.type === "nack") refused += 1;
      });
      return run;
    }),
  );
  rt.sink.reset();
  // The bench makes no HTTP request while the sessions move: every batch travels over a socket already open.
  const httpRequestsWhileMoving = 0;
  const started = performance.now();
  const deadline = started + durationSeconds * 1000;
  await Promise.all(
    runs.map(async (run, index) => {
      const state = { x: 100 + index, y: 100, i: 0, t0: Date.now() };
      await sleep((index * 100) / runs.length); // spread the sessions over the 100 ms period
      while (performance.now() < deadline) {
        const events = walk(state, 6);
        run.sentAt.set(run.sent + events.length - 1, performance.now());
        run.ws.send(JSON.stringify({ type: "events", first_seq: run.sent, events }));
        run.sent += events.length;
        await sleep(100);
      }
    }),
  );
  const moving = (performance.now() - started) / 1000;
  await pollUntil(async () => runs.every((r) => r.acked >= r.sent) || null, { timeoutMs: 10_000, intervalMs: 100 });
  for (const run of runs) run.ws.close();
  // What D1 was told while the sessions moved (the consumer logs rows written from D1's result metadata).
  await sleep(2500);
  const telemetry = rt.sink.telemetry.slice();
  const messages = telemetry.reduce((n, l) => n + (l.messages ?? 0), 0);
  const rowsWritten = telemetry.reduce((n, l) => n + (l.rows_written ?? 0), 0);
  const sent = runs.reduce((n, r) => n + r.sent, 0);

  // Every session ends (final rollups, archive); then what each stored and what D1 holds must equal what was sent.
  for (const run of runs) {
    await request(`${rt.baseUrl}/api/v1/cursor/sessions/${run.id}`, { method: "DELETE", token: run.token });
  }
  let lost = 0;
  let doubled = 0;
  for (const run of runs) {
    const stats = await request(`${rt.baseUrl}/api/v1/cursor/sessions/${run.id}/stats?bucket=24h`, {
      token: run.token,
    });
    const stored = stats.body?.totals?.event_count ?? 0;
    if (stored < run.sent) lost += run.sent - stored;
    if (stored > run.sent) doubled += stored - run.sent;
  }
  const ids = runs.map((r) => `'${r.id}'`).join(",");
  const inD1 = await pollUntil(
    async () => {
      const n = Number(
        await rt.countRows(
          `SELECT coalesce(sum(event_count), 0) AS n FROM cursor_rollups WHERE session_id IN (${ids})`,
        ),
      );
      return n >= sent ? n : null;
    },
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  const d1Count =
    inD1 ??
    Number(
      await rt.countRows(`SELECT coalesce(sum(event_count), 0) AS n FROM cursor_rollups WHERE session_id IN (${ids})`),
    );
  const sessionSeconds = SESSIONS * moving;
  return {
    sessions: SESSIONS,
    moving_s: round(moving, 1),
    events_sent: sent,
    events_acked: runs.reduce((n, r) => n + r.acked, 0),
    refused,
    lost,
    doubled,
    d1_rollup_events: d1Count,
    d1_matches: d1Count === sent,
    ack_latency_p50_ms: round(percentile(latencies, 50), 2),
    ack_latency_p99_ms: round(percentile(latencies, 99), 2),
    per_moving_session_second: {
      worker_invocations: round(httpRequestsWhileMoving / sessionSeconds, 3),
      do_requests: round(runs.reduce((n, r) => n + r.sent / 6, 0) / sessionSeconds, 2),
      queue_messages: round(messages / sessionSeconds, 3),
      d1_rows_written: round(rowsWritten / sessionSeconds, 3),
      // Each session's trailing flush (once it stops moving) counted apart: what a long session converges to.
      queue_messages_steady: round(Math.max(0, messages - SESSIONS) / sessionSeconds, 3),
      d1_rows_written_steady: round(Math.max(0, rowsWritten - SESSIONS) / sessionSeconds, 3),
    },
  };
}

export async function cursorFigures(rt, { durationSeconds }) {
  const single = await singleSession(rt, durationSeconds);
  const many = await manySessions(rt, durationSeconds);
  return {
    single,
    many,
    targets: TARGETS,
    pass: {
      p50: single.ack_latency_p50_ms !== null && single.ack_latency_p50_ms <= TARGETS.p50_ms,
      p99: single.ack_latency_p99_ms !== null && single.ack_latency_p99_ms <= TARGETS.p99_ms,
      lost: many.lost === 0,
      doubled: many.doubled === 0,
      d1_count: many.d1_matches,
    },
  };
}
