import { createExecutionContext, createMessageBatch, evictDurableObject, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { cursorSessionStub } from "../../src/cursor/cursor-session";
import { advance, INITIAL_STATE, sumBuckets } from "../../src/cursor/kinematics";
import worker from "../../src/index";
import { isDatabaseError } from "../../src/lib/db-errors";
import { handleQueue } from "../../src/queues";
import { allEvents, openViewer, waitForStoredEvents } from "../cursor/helpers";
import { api, expectProblem } from "../helpers";
import { insertOutbox, MAILCHANNELS_HOST, outboxRow } from "../mail/stub";
import {
  changedTables,
  makeCallers,
  makeCursorSession,
  makeProduct,
  openapiDocument,
  operationsOf,
  responseViolations,
  snapshot,
} from "./support";

const quiet = () => {
  for (const level of ["log", "warn", "error"] as const) vi.spyOn(console, level).mockImplementation(() => {});
};
afterEach(() => {
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------------------------
// D1 stand-ins

/** A D1 whose every statement fails with `message`, as D1 does when it is overloaded or unreachable. */
function brokenDb(message: string): D1Database {
  const fail = () => Promise.reject(new Error(message));
  const statement = { bind: () => statement, all: fail, first: fail, run: fail, raw: fail };
  return { prepare: () => statement, batch: fail, exec: fail, dump: fail } as unknown as D1Database;
}

/** The real D1, but every statement that names `table` hits a table that does not exist: a genuine D1_ERROR. */
function dbWithoutTable(table: string): D1Database {
  const real = env.DB;
  return new Proxy(real, {
    get(target, key, receiver) {
      // The request's D1 session is this stand-in itself, so its statements go through prepare below.
      if (key === "withSession") return () => receiver;
      if (key === "prepare") return (sql: string) => target.prepare(sql.replaceAll(`"${table}"`, `"${table}_gone"`));
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** The real D1, except that its `failOn`-th db.batch() call (1-based) fails as if the connection dropped. */
function dbFailingBatch(failOn: number): D1Database {
  let calls = 0;
  return new Proxy(env.DB, {
    get(target, key, receiver) {
      if (key === "withSession") return () => receiver;
      if (key === "batch") {
        return (statements: D1PreparedStatement[]) => {
          calls += 1;
          if (calls === failOn) return Promise.reject(new Error("D1_ERROR: Network connection lost."));
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function fetchWith(db: D1Database, path: string, init: RequestInit & { token?: string; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.token) headers.set("authorization", `Bearer ${init.token}`);
  if (init.json !== undefined) headers.set("content-type", "application/json");
  const request = new Request(`http://localhost${path}`, {
    ...init,
    headers,
    body: init.json === undefined ? init.body : JSON.stringify(init.json),
  });
  return worker.fetch(request, { ...env, DB: db }, createExecutionContext());
}

// ---------------------------------------------------------------------------------------------------------------

describe("D1 failures surface as 503 problem+json, without internals", () => {
  it("recognises D1 errors, also wrapped by drizzle, and nothing else", () => {
    expect(isDatabaseError(new Error("D1_ERROR: no such table: x: SQLITE_ERROR"))).toBe(true);
    expect(isDatabaseError(new Error("D1 DB is overloaded. Too many requests queued."))).toBe(true);
    expect(isDatabaseError(new Error("Failed query", { cause: new Error("Network connection lost.") }))).toBe(true);
    expect(isDatabaseError(new TypeError("Cannot read properties of undefined"))).toBe(false);
    expect(isDatabaseError("D1_ERROR as a string")).toBe(false);
  });

  it("answers 503 with Retry-After when D1 is unreachable, for readers, writers and token checks", async () => {
    quiet();
    const { member, admin } = await makeCallers();
    const db = brokenDb("D1_ERROR: Network connection lost.");
    const cases: [string, Parameters<typeof fetchWith>[2]][] = [
      ["/api/v1/products", {}],
      ["/api/v1/tasks", { token: member.token }],
      ["/api/v1/auth/login", { method: "POST", json: { email: member.email, password: member.password } }],
      ["/api/v1/products", { method: "POST", token: admin.token, json: { name: "Lamp", brand: "Acme", price: 1 } }],
      ["/api/v1/cursor/sessions", { method: "GET", token: admin.token }],
    ];
    for (const [path, init] of cases) {
      const res = await fetchWith(db, path, init);
      const text = await res.clone().text();
      const body = await expectProblem(res, 503);
      expect(body.type).toContain("service-unavailable");
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(text).not.toMatch(/D1_|Network connection|SQLITE|select|Failed query/i);
    }
  });

  it("turns a genuine D1 error from the real binding into 503, and a failed write changes nothing", async () => {
    quiet();
    const { member } = await makeCallers();
    const before = await snapshot();
    const res = await fetchWith(dbWithoutTable("tasks"), "/api/v1/tasks", {
      method: "POST",
      token: member.token,
      json: { title: "never stored" },
    });
    const text = await res.clone().text();
    await expectProblem(res, 503);
    expect(text).not.toMatch(/tasks_gone|no such table|SQLITE/i);
    expect(changedTables(before, await snapshot())).toEqual([]);
  });

  it("503s match the document, headers included: problems with Retry-After, the health report without", async () => {
    quiet();
    const doc = await openapiDocument();
    const { member } = await makeCallers();
    const db = brokenDb("D1_ERROR: Network connection lost.");
    const byKey = new Map(operationsOf(doc).map((o) => [o.key, o]));
    const violations: string[] = [];
    for (const [key, path, token] of [
      ["GET /health", "/health", undefined],
      ["GET /api/v1/products", "/api/v1/products", undefined],
      ["GET /api/v1/tasks", "/api/v1/tasks", member.token],
    ] as const) {
      const res = await fetchWith(db, path, { token });
      expect(res.status, path).toBe(503);
      violations.push(...(await responseViolations(doc, byKey.get(key)!, res)));
    }
    // A misconfigured production deployment refuses everything with a 503 that has no Retry-After (waiting will not
    // fix it); the document allows that.
    const misconfigured = { ...env, ENVIRONMENT: "production", JWT_SECRET: "short" } as Env;
    const refused = await worker.fetch(
      new Request("http://localhost/api/v1/products"),
      misconfigured,
      createExecutionContext(),
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBeNull();
    violations.push(...(await responseViolations(doc, byKey.get("GET /api/v1/products")!, refused)));
    expect(violations).toEqual([]);
  });

  it("documents the 503 on every /api/v1 operation", async () => {
    const doc = await openapiDocument();
    const missing = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith("/api/v1"))
      .flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ key: `${method} ${path}`, op })))
      .filter(({ op }) => !op.responses["503"]?.content?.["application/problem+json"])
      .map(({ key }) => key);
    expect(missing).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------------

type Answer = Response | Error;

/** MailChannels stand-in: answers from `script` in order (the last answer repeats) and counts sends per outbox id. */
function mailChannels(script: (() => Answer)[]) {
  const realFetch = globalThis.fetch;
  const sends: string[] = [];
  let n = 0;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    if (new URL(request.url).host !== MAILCHANNELS_HOST) return realFetch(input as RequestInfo, init);
    const body = (await request.json()) as { subject: string };
    sends.push(body.subject);
    const answer = script[Math.min(n, script.length - 1)]!();
    n += 1;
    if (answer instanceof Error) throw answer;
    return answer;
  });
  return sends;
}

const KEYED = { ...env, MAILCHANNELS_API_KEY: "test-key" } as Env;

async function deliverMail(id: string, attempts: number) {
  const batch = createMessageBatch("mail", [
    { id: `mail-${attempts}-${id}`, timestamp: new Date(), attempts, body: { id } },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, KEYED, ctx);
  return getQueueResult(batch, ctx);
}

describe("MailChannels failing: 500, 429, timeout, then 400", () => {
  it("retries 5xx, 429 and timeouts, sends exactly once, and ignores redelivery after success", async () => {
    quiet();
    const sends = mailChannels([
      () => new Response("upstream broke", { status: 500 }),
      () => new Response("slow down", { status: 429, headers: { "retry-after": "7" } }),
      () => new DOMException("The operation was aborted due to timeout", "TimeoutError"),
      () => new Response(null, { status: 202 }),
    ]);
    const [id] = await insertOutbox([{ email: "ada@example.com" }]);
    const statuses: string[] = [];
    for (let attempt = 1; attempt <= 4; attempt++) {
      const result = await deliverMail(id!, attempt);
      const row = await outboxRow(id!);
      statuses.push(row.status);
      expect(row.attempts).toBe(attempt);
      if (attempt < 4) expect(result.retryMessages).toHaveLength(1);
      else expect(result.explicitAcks).toHaveLength(1);
    }
    expect(statuses).toEqual(["retrying", "retrying", "retrying", "sent"]);
    expect((await outboxRow(id!)).lastError).toBeNull();
    // The queue delivers at least once: a late copy of the message must not mail anyone twice.
    const again = await deliverMail(id!, 5);
    expect(again.explicitAcks).toHaveLength(1);
    expect(sends).toHaveLength(4);
    const row = await outboxRow(id!);
    expect(row).toMatchObject({ status: "sent", attempts: 4 });
  });

  it("treats a 400 as final: failed at once, no retry, and a redelivery sends nothing", async () => {
    quiet();
    const sends = mailChannels([() => Response.json({ errors: ["bad recipient"] }, { status: 400 })]);
    const [id] = await insertOutbox([{ email: "bob@example.com" }]);
    const result = await deliverMail(id!, 1);
    expect(result.retryMessages).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await outboxRow(id!)).toMatchObject({ status: "failed", attempts: 1 });
    expect((await outboxRow(id!)).lastError).toBeTruthy();
    await deliverMail(id!, 2);
    expect(sends).toHaveLength(1);
  });
});

// ---------------------------------------------------------------------------------------------------------------

const T0 = Date.UTC(2026, 0, 1);

/** The telemetry message a session object sends for these points: one 10-second rollup and the end summary. */
function cursorMessages(sessionId: string, points: { x: number; y: number; t: number }[]) {
  const r = advance(INITIAL_STATE, points);
  const rollups = sumBuckets(
    points.map((p, seq) => ({ ...p, seq })),
    { bucketSeconds: 10, previous: null, distanceBefore: 0 },
  );
  return [
    {
      type: "cursor.rollups",
      id: `${sessionId}:${r.state.eventCount - 1}:end`,
      session_id: sessionId,
      rollups,
      summary: {
        event_count: r.state.eventCount,
        total_distance: r.state.totalDistance,
        last_event_at: r.state.last!.t,
        ended_at: r.state.last!.t,
      },
    },
  ];
}

/** Views and cursor rollups travel on their own queues ("views", "telemetry"); each redelivers on its own. */
async function deliverViews(bodies: { id: string; body: unknown }[], db: D1Database, attempts = 1) {
  const results = { retryMessages: [] as { msgId: string }[], explicitAcks: [] as string[] };
  for (const queue of ["views", "telemetry"]) {
    const mine = bodies.filter(
      ({ body }) => ((body as { type: string }).type === "product.view") === (queue === "views"),
    );
    const batch = createMessageBatch(
      queue,
      mine.map(({ id, body }) => ({ id, timestamp: new Date(), attempts, body })),
    );
    const ctx = createExecutionContext();
    await handleQueue(batch, { ...env, DB: db }, ctx);
    const result = await getQueueResult(batch, ctx);
    results.retryMessages.push(...result.retryMessages);
    results.explicitAcks.push(...result.explicitAcks);
  }
  return results;
}

describe("a queue consumer failing halfway through a batch", () => {
  it("retries what failed, keeps what committed, and counts nothing twice on redelivery", async () => {
    quiet();
    const { admin } = await makeCallers();
    const { sku } = await makeProduct(admin);
    const sessionId = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO cursor_sessions (id, viewport_width, viewport_height, created_at) VALUES (?, 800, 600, ?)",
    )
      .bind(sessionId, T0)
      .run();
    const views = Array.from({ length: 5 }, () => ({
      id: `v-${crypto.randomUUID()}`,
      body: { type: "product.view", id: crypto.randomUUID(), sku, at: T0 },
    }));
    const points = [
      { x: 0, y: 0, t: T0 },
      { x: 3, y: 4, t: T0 + 500 },
      { x: 6, y: 8, t: T0 + 1500 },
    ];
    const cursor = cursorMessages(sessionId, points).map((body) => ({ id: `c-${crypto.randomUUID()}`, body }));
    const messages = [...views, ...cursor];

    // The first write of the batch (the product views) fails; the second group (cursor events) commits.
    const first = await deliverViews(messages, dbFailingBatch(1));
    expect(first.retryMessages.map((m) => m.msgId).sort()).toEqual(views.map((v) => v.id).sort());
    expect(first.explicitAcks.sort()).toEqual(cursor.map((c) => c.id).sort());

    const state = async () => ({
      views: (await env.DB.prepare("SELECT views FROM products WHERE sku = ?").bind(sku).first<{ views: number }>())
        ?.views,
      daily: (
        await env.DB.prepare("SELECT views FROM product_views_daily WHERE sku = ?").bind(sku).first<{ views: number }>()
      )?.views,
      events: (
        await env.DB.prepare("SELECT coalesce(sum(event_count), 0) AS n FROM cursor_rollups WHERE session_id = ?")
          .bind(sessionId)
          .first<{ n: number }>()
      )?.n,
      session: await env.DB.prepare("SELECT event_count, total_distance FROM cursor_sessions WHERE id = ?")
        .bind(sessionId)
        .first(),
    });
    expect((await state()).views).toBe(0);
    expect((await state()).events).toBe(3);

    // The runtime redelivers the retried messages, and (at least once) may redeliver the acked ones too.
    await deliverViews(messages, env.DB, 2);
    const settled = await state();
    await deliverViews(messages, env.DB, 3);
    const after = await state();
    expect(after).toEqual(settled);
    expect(after).toEqual({ views: 5, daily: 5, events: 3, session: { event_count: 3, total_distance: 10 } });
  });
});

// ---------------------------------------------------------------------------------------------------------------

describe("the cursor Durable Object evicted between batches", () => {
  it("continues the path, keeps the viewer informed and stores every event exactly once", async () => {
    const session = await makeCursorSession();
    const viewer = await openViewer(`/api/v1/cursor/sessions/${session.id}/live?token=${session.token}`);
    await viewer.frame(0);
    const t = Date.now() - 20_000;
    const post = (events: unknown) =>
      api(`/cursor/sessions/${session.id}/events`, { method: "POST", token: session.token, json: { events } });
    expect(
      (
        await post([
          { x: 0, y: 0, t },
          { x: 3, y: 4, t: t + 100 },
        ])
      ).status,
    ).toBe(202);
    await evictDurableObject(cursorSessionStub(env, session.id));
    const second = await post([{ x: 6, y: 8, t: t + 200 }]);
    expect(second.status).toBe(202);
    expect(await second.json()).toMatchObject({ event_count: 3, total_distance: 10 });
    // The viewer, connected before the eviction, still gets the frame of the batch after it.
    await vi.waitFor(() => {
      expect(viewer.frames.some((f) => f.type === "frame" && f.event_count === 3 && f.total_distance === 10)).toBe(
        true,
      );
    });
    await waitForStoredEvents(session.id, 3);
    const events = await allEvents(session.id, session.token);
    const stored = { n: events.length, distinct_seq: new Set(events.map((e) => e.seq)).size };
    expect(stored).toEqual({ n: 3, distinct_seq: 3 });
    viewer.ws.close(1000, "done");
    // Rollups reach D1 on the flush interval, or on the safety alarm after the eviction.
  }, 20_000);
});
