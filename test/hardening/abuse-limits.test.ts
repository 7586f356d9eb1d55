import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { MAX_BODY_BYTES } from "../../src/app";
import { ADDRESS_FACTOR } from "../../src/auth/rate-limit";
import { MAX_EVENTS_PER_BATCH } from "../../src/cursor/protocol";
import { MAX_VIEWER_MESSAGE_BYTES, MAX_VIEWER_MESSAGES } from "../../src/cursor/socket-gateway";
import worker from "../../src/index";
import { openViewer } from "../cursor/helpers";
import { api, call, expectProblem } from "../helpers";
import { MATRIX, makeWorld, tokenOf, type World } from "./operations";
import { type Document, openapiDocument, operationsOf, resolve, SHARED_PASSWORD, snapshot } from "./support";

let doc: Document;
let w: World;
beforeAll(async () => {
  doc = await openapiDocument();
  w = await makeWorld();
});

describe("login rate limiting", () => {
  const MAX = 2;
  const limited = { ...env, LOGIN_MAX_FAILURES: String(MAX) } as Env;
  const login = async (email: string, password: string, ip: string) => {
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request("http://localhost/api/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json", "cf-connecting-ip": ip },
        body: JSON.stringify({ email, password }),
      }),
      limited,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    return res;
  };

  it("blocks an account after its failures, even for the right password, with Retry-After", async () => {
    const user = w.other;
    for (let i = 0; i < MAX; i++) await expectProblem(await login(user.email, "wrong password", "192.0.2.1"), 401);
    for (const password of ["wrong again", SHARED_PASSWORD]) {
      const res = await login(user.email, password, "192.0.2.2");
      await expectProblem(res, 429);
      const retryAfter = Number(res.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(Number(env.LOGIN_WINDOW_SECONDS));
    }
  });

  it("blocks an address spraying many accounts, but not other addresses", { timeout: 30_000 }, async () => {
    const ip = "198.51.100.7";
    for (let i = 0; i < MAX * ADDRESS_FACTOR; i++) {
      await expectProblem(await login(`spray-${i}-${crypto.randomUUID()}@test.local`, "guess", ip), 401);
    }
    await expectProblem(await login(w.member.email, SHARED_PASSWORD, ip), 429);
    // The same account from elsewhere is fine: the address was limited, not the account.
    expect((await login(w.member.email, SHARED_PASSWORD, "203.0.113.9")).status).toBe(200);
  });
});

describe("request body limit", () => {
  const writes = () => operationsOf(doc).filter((o) => o.op.requestBody && MATRIX[o.key]);

  it("refuses a body over 1 MiB on every write with 413 and changes nothing", async () => {
    for (const operation of writes()) {
      const built = await MATRIX[operation.key]!.build(w);
      const before = await snapshot();
      const res = await call(built.path, {
        method: built.method,
        token: tokenOf(w, built, MATRIX[operation.key]!.session ? "own" : "superuser"),
        headers: { "content-type": "application/json" },
        body: `{"pad":"${"x".repeat(MAX_BODY_BYTES)}"}`,
      });
      await expectProblem(res, 413);
      expect(await snapshot()).toEqual(before);
    }
  });

  it("also when the body is streamed without a Content-Length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent > MAX_BODY_BYTES + chunk.length) controller.close();
        else {
          controller.enqueue(chunk);
          sent += chunk.length;
        }
      },
    });
    const res = await call("/api/v1/tasks", {
      method: "POST",
      token: w.member.token,
      headers: { "content-type": "application/json" },
      body,
      // @ts-expect-error: workerd needs `duplex` for a streamed request body
      duplex: "half",
    });
    await expectProblem(res, 413);
  });

  it("a body just under the limit is read and judged on its content", async () => {
    const res = await api("/tasks", {
      method: "POST",
      token: w.member.token,
      json: { title: "x", description: "y".repeat(MAX_BODY_BYTES - 100) },
    });
    await expectProblem(res, 422);
  });
});

describe("page size cap", () => {
  it("every `limit` parameter refuses one past its maximum and serves exactly its maximum", async () => {
    let lists = 0;
    for (const operation of operationsOf(doc)) {
      const limit = operation.op.parameters?.find((p) => p.in === "query" && p.name === "limit");
      const row = MATRIX[operation.key];
      if (!limit || !row) continue;
      const max = resolve(doc, limit.schema).maximum as number;
      expect(max, operation.key).toBeLessThanOrEqual(1000);
      const built = await row.build(w);
      const token = tokenOf(w, built, row.session ? "own" : "superuser");
      const over = await call(`${built.path}?limit=${max + 1}`, { token });
      const problem = await expectProblem(over, 400);
      expect(problem.errors?.map((e) => e.path)).toContain("limit");
      const at = await call(`${built.path}?limit=${max}`, { token });
      expect(at.status, operation.key).toBe(200);
      const body = (await at.json()) as { items?: unknown[]; limit?: number };
      if (body.items) expect(body.items.length).toBeLessThanOrEqual(max);
      for (const bad of ["0x10", "", "1e2", " 5"]) {
        await expectProblem(await call(`${built.path}?limit=${encodeURIComponent(bad)}`, { token }), 400);
      }
      lists += 1;
    }
    expect(lists).toBeGreaterThanOrEqual(8);
  });
});

describe("cursor limits", () => {
  it(`an event batch takes ${MAX_EVENTS_PER_BATCH} events and refuses one more`, async () => {
    const t0 = Date.now() - 50_000;
    const events = (n: number, start: number) =>
      Array.from({ length: n }, (_, i) => ({ x: i % 500, y: 1, t: start + i }));
    const post = (list: unknown[]) =>
      api(`/cursor/sessions/${w.otherSession.id}/events`, {
        method: "POST",
        token: w.otherSession.token,
        json: { events: list },
      });
    const over = await expectProblem(await post(events(MAX_EVENTS_PER_BATCH + 1, t0)), 422);
    expect(over.errors?.[0]?.path).toBe("events");
    expect((await post(events(MAX_EVENTS_PER_BATCH, t0))).status).toBe(202);
    await expectProblem(await post([]), 422);
  });

  it(`a viewer sending more than ${MAX_VIEWER_MESSAGE_BYTES} bytes is closed with 1009`, async () => {
    // An admin watching: a viewer. (The session's own socket also carries its event batches, up to 128 KB each.)
    for (const message of ["x".repeat(MAX_VIEWER_MESSAGE_BYTES + 1), "é".repeat(MAX_VIEWER_MESSAGE_BYTES / 2 + 1)]) {
      const viewer = await openViewer(`/api/v1/cursor/sessions/${w.session.id}/live?token=${w.admin.token}`);
      await viewer.frame(0);
      viewer.ws.send(message);
      expect((await viewer.closed).code).toBe(1009);
    }
  });

  it(`a viewer sending more than ${MAX_VIEWER_MESSAGES} messages in its window is closed with 1008`, async () => {
    const viewer = await openViewer(`/api/v1/cursor/sessions/${w.session.id}/live?token=${w.session.token}`);
    await viewer.frame(0);
    for (let i = 0; i <= MAX_VIEWER_MESSAGES; i++) viewer.ws.send(`noise ${i}`);
    expect((await viewer.closed).code).toBe(1008);
  });

  it("pings are answered without counting against the viewer", async () => {
    const viewer = await openViewer(`/api/v1/cursor/sessions/${w.session.id}/live?token=${w.admin.token}`);
    await viewer.frame(0);
    let pongs = 0;
    viewer.ws.addEventListener("message", (event) => {
      if (event.data === "pong") pongs += 1;
    });
    for (let i = 0; i < MAX_VIEWER_MESSAGES * 2; i++) viewer.ws.send("ping");
    await vi.waitFor(() => expect(pongs).toBe(MAX_VIEWER_MESSAGES * 2), { timeout: 5000, interval: 10 });
    // After twice the limit in pings, the viewer's window still has room for every message it may send: each
    // "hello" is answered (so the socket is open), and only the one past the limit closes it.
    const hellos = () => viewer.frames.filter((frame) => frame.type === "hello").length;
    for (let i = 0; i < MAX_VIEWER_MESSAGES; i++) viewer.ws.send(JSON.stringify({ type: "hello" }));
    await vi.waitFor(() => expect(hellos()).toBe(1 + MAX_VIEWER_MESSAGES), { timeout: 5000, interval: 10 });
    viewer.ws.send(JSON.stringify({ type: "hello" }));
    expect((await viewer.closed).code).toBe(1008);
    expect(hellos()).toBe(1 + MAX_VIEWER_MESSAGES);
  });
});
