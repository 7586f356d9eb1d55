// Cursor pipeline: one session, 100-event batches sent one after another as fast as the session accepts them, two
// WebSocket viewers timing each batch's frame, then the queue drained into D1 and the stored rows counted.
import { performance } from "node:perf_hooks";
import { percentile, request, requireOk, round } from "../lib/load.mjs";
import { pollUntil, sleep } from "../lib/proc.mjs";

export const TARGETS = { events_per_s: 50_000, p50_ms: 5, p99_ms: 25 };
const BATCH = 100;
const MAX_EVENTS = 2_000_000; // a bound on the loop whatever the speed
const MAX_REJECTED = 50;
// Batches in flight at once (BENCH_CURSOR_INFLIGHT): each carries `first_seq`, so the session applies them in seq
// order however the requests arrive. 1 = one after another, each waiting for its answer.
const IN_FLIGHT = Math.max(1, Number(process.env.BENCH_CURSOR_INFLIGHT ?? 1));

function openViewer(url, onFrame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error("viewer: no hello frame within 10 s"));
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
      reject(new Error("viewer: WebSocket error"));
    });
  });
}

export async function cursorFigures(rt, { durationSeconds }) {
  const created = await requireOk(
    `${rt.baseUrl}/api/v1/cursor/sessions`,
    { method: "POST", json: { viewport: { width: 1920, height: 1080 }, label: "npm run bench" } },
    [201],
  );
  const { id, token } = created;
  const sentAt = new Map(); // event_count after a batch -> when it was sent
  const latencies = [];
  const frames = [0, 0];
  const wsUrl = `${rt.baseUrl.replace(/^http/, "ws")}/api/v1/cursor/sessions/${id}/live?token=${encodeURIComponent(token)}`;
  const viewers = [];
  try {
    for (const index of [0, 1]) {
      viewers.push(
        await openViewer(wsUrl, (frame, at) => {
          if (frame.type !== "frame") return;
          frames[index] += 1;
          const sent = sentAt.get(frame.event_count);
          if (sent !== undefined) latencies.push(at - sent);
        }),
      );
    }

    // Timestamps start 20 minutes back, 1 ms apart: always in order, never more than 60 s ahead of the server clock.
    let t = Date.now() - 20 * 60_000;
    let x = 960;
    let y = 540;
    let accepted = 0;
    let rejected = 0;
    let lastRejection = null;
    const started = performance.now();
    const deadline = started + durationSeconds * 1000;
    let nextSeq = 0;
    const sender = async () => {
      while (performance.now() < deadline && nextSeq < MAX_EVENTS && rejected < MAX_REJECTED) {
        const events = [];
        for (let i = 0; i < BATCH; i++) {
          x = Math.min(1919, Math.max(0, x + Math.random() * 20 - 10));
          y = Math.min(1079, Math.max(0, y + Math.random() * 20 - 10));
          t += 1;
          events.push({ x: round(x, 1), y: round(y, 1), t });
        }
        const firstSeq = nextSeq;
        nextSeq += BATCH;
        sentAt.set(firstSeq + BATCH, performance.now());
        const res = await request(`${rt.baseUrl}/api/v1/cursor/sessions/${id}/events`, {
          method: "POST",
          token,
          json: IN_FLIGHT > 1 ? { events, first_seq: firstSeq } : { events },
        });
        if (res.status === 202) accepted += BATCH;
        else {
          rejected += 1;
          lastRejection = `${res.status} ${JSON.stringify(res.body).slice(0, 200)}`;
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, sender));
    const elapsed = (performance.now() - started) / 1000;
    // Frames still in flight: wait (bounded) until both viewers have seen every accepted batch.
    await pollUntil(async () => frames.every((n) => n >= accepted / BATCH), { timeoutMs: 5_000, intervalMs: 50 });

    const drainStarted = performance.now();
    const countSql = `SELECT count(*) AS n FROM cursor_events WHERE session_id = '${id}'`;
    const stored = await pollUntil(
      async () => {
        const n = Number(await rt.countRows(countSql));
        return n >= accepted ? n : null;
      },
      { timeoutMs: 180_000, intervalMs: 1000 },
    );
    const finalCount = stored ?? Number(await rt.countRows(countSql));
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const eventsPerSecond = accepted / elapsed;
    return {
      batch_size: BATCH,
      in_flight: IN_FLIGHT,
      viewers: 2,
      duration_s: round(elapsed, 1),
      batches_accepted: accepted / BATCH,
      batches_rejected: rejected,
      last_rejection: lastRejection,
      events_sent: accepted,
      events_per_s: round(eventsPerSecond, 0),
      frames_received: frames,
      frame_latency_p50_ms: round(p50, 2),
      frame_latency_p99_ms: round(p99, 2),
      events_in_d1: finalCount,
      d1_matches: finalCount === accepted,
      drain_s: round((performance.now() - drainStarted) / 1000, 1),
      targets: TARGETS,
      pass: {
        events_per_s: eventsPerSecond >= TARGETS.events_per_s,
        p50: p50 !== null && p50 <= TARGETS.p50_ms,
        p99: p99 !== null && p99 <= TARGETS.p99_ms,
        d1_count: finalCount === accepted,
      },
    };
  } finally {
    for (const ws of viewers) ws.close();
    await sleep(100);
  }
}
