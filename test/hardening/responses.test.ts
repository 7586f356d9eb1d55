import { beforeAll, describe, expect, it } from "vitest";
import { call } from "../helpers";
import { type Built, CALLERS, MATRIX, makeWorld, send, tokenOf, type World } from "./operations";
import {
  cursorEvents,
  type Document,
  openapiDocument,
  operationsOf,
  resolve,
  responseViolations,
  validate,
} from "./support";

const TIMING = 'd1;desc="rt=0 read=0 written=0";dur=0';
let doc: Document;
let w: World;

beforeAll(async () => {
  doc = await openapiDocument();
  w = await makeWorld();
});

/** The same request with its path id swapped for `value` (a missing uuid, or something that is not one). */
function withPathId(built: Built, template: string, value: string): Built {
  const names = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  if (names.length === 0) return built;
  // The last templated segment of the path is the id the operation acts on.
  const segments = template.split("/");
  const index = segments.findLastIndex((s) => s.startsWith("{"));
  const actual = built.path.split("/");
  actual[index] = value;
  return { ...built, path: actual.join("/") };
}

describe("every response matches the OpenAPI document", () => {
  it("validates the validator on a few known shapes", () => {
    const problem = { $ref: "#/components/schemas/Problem" };
    expect(validate(doc, problem, { type: "t", title: "T", status: 400, detail: "d" })).toEqual([]);
    expect(validate(doc, problem, { type: "t", title: "T", status: "400", detail: "d" })).not.toEqual([]);
    expect(validate(doc, problem, { title: "T", status: 400, detail: "d" })).not.toEqual([]);
    expect(validate(doc, { type: "string", format: "uuid" }, "nope")).not.toEqual([]);
    expect(validate(doc, { type: ["string", "null"], format: "date-time" }, null)).toEqual([]);
    expect(validate(doc, { type: "integer", minimum: 1 }, 1.5)).not.toEqual([]);
    expect(validate(doc, { type: "number", multipleOf: 0.01 }, 19.99)).toEqual([]);
    expect(validate(doc, { type: "number", multipleOf: 0.01 }, 19.999)).not.toEqual([]);
    expect(validate(doc, { type: "object", minProperties: 1 }, {})).not.toEqual([]);
    expect(validate(doc, { type: "object", additionalProperties: false }, { x: 1 })).not.toEqual([]);
  });

  it("flags an undocumented status, a wrong content type and a body that breaks the schema", async () => {
    const me = operationsOf(doc).find((o) => o.key === "GET /api/v1/auth/me")!;
    const json = (body: unknown, status = 200, type = "application/json") =>
      new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": type, "x-request-id": "r1", "server-timing": TIMING },
      });
    expect(await responseViolations(doc, me, json({}, 418))).toHaveLength(1);
    expect(await responseViolations(doc, me, json({}, 200, "text/html"))).toHaveLength(1);
    const user = { id: w.member.id, email: "a@b.c", username: "abc", role: "member" };
    expect((await responseViolations(doc, me, json(user))).join()).toMatch(/created_at/);
  });

  it("flags a missing required header and a sent header that is not declared", async () => {
    const me = operationsOf(doc).find((o) => o.key === "GET /api/v1/auth/me")!;
    const body = JSON.stringify({
      id: w.member.id,
      email: "a@b.c",
      username: "abc",
      role: "member",
      email_verified: true,
      created_at: new Date().toISOString(),
      updated_at: new Date().toISOString(),
    });
    const res = (headers: Record<string, string>) =>
      new Response(body, { status: 200, headers: { "content-type": "application/json", ...headers } });
    expect(await responseViolations(doc, me, res({ "x-request-id": "r1", "server-timing": TIMING }))).toEqual([]);
    expect((await responseViolations(doc, me, res({}))).join()).toMatch(/required header x-request-id is missing/);
    expect(
      (await responseViolations(doc, me, res({ "x-request-id": "r1", "server-timing": TIMING, etag: "W/1" }))).join(),
    ).toMatch(/header etag is not declared/);
    // Transport, security and CORS headers are outside any one operation's contract.
    expect(
      await responseViolations(
        doc,
        me,
        res({ "x-request-id": "r1", "server-timing": TIMING, "x-frame-options": "DENY", vary: "Origin" }),
      ),
    ).toEqual([]);
  });

  it("on every operation, for every caller, on a missing id and on a malformed one", async () => {
    const violations: string[] = [];
    for (const operation of operationsOf(doc)) {
      const row = MATRIX[operation.key];
      if (!row) continue;
      const requests: Promise<[Built, string | undefined]>[] = [];
      for (const caller of [...CALLERS, ...(row.session ? (["own", "foreign"] as const) : [])]) {
        requests.push(Promise.resolve(row.build(w)).then((built) => [built, tokenOf(w, built, caller)]));
      }
      const privileged = row.session ? "own" : "superuser";
      if (operation.path.includes("{")) {
        requests.push(
          Promise.resolve(row.build(w)).then((built) => [
            withPathId(built, operation.path, crypto.randomUUID()),
            w.superuser.token,
          ]),
          Promise.resolve(row.build(w)).then((built) => [
            withPathId(built, operation.path, "not-a-uuid"),
            tokenOf(w, built, privileged),
          ]),
        );
      }
      if (operation.op.requestBody) {
        requests.push(
          Promise.resolve(row.build(w)).then((built) => [
            { ...built, json: { unexpected: true } },
            tokenOf(w, built, privileged),
          ]),
        );
      }
      // The requests of one operation are independent of each other, so they run side by side.
      const found = await Promise.all(
        requests.map(async (request) => {
          const [built, token] = await request;
          return responseViolations(doc, operation, await send(built, token));
        }),
      );
      violations.push(...found.flat());
    }
    expect(violations).toEqual([]);
  }, 90_000);

  it("list pages, field selections and stats with data in them", async () => {
    await api2(`/api/v1/cursor/sessions/${w.session.id}/events`, w.session.token, { events: cursorEvents(5) });
    const cases: [string, string, string | undefined][] = [
      ["GET /api/v1/tasks", "/api/v1/tasks?fields=id,title&limit=5", w.member.token],
      ["GET /api/v1/tasks", "/api/v1/tasks?omit=description&ordering=-expires_at", w.member.token],
      ["GET /api/v1/tasks/{id}", `/api/v1/tasks/${w.task.id}?fields=status`, w.member.token],
      ["GET /api/v1/products", "/api/v1/products?fields=sku,price&ordering=-views", undefined],
      ["GET /api/v1/users", "/api/v1/users?role=member&ordering=email", w.admin.token],
      ["GET /api/v1/notifications", "/api/v1/notifications?unread=true", w.member.token],
      [
        "GET /api/v1/cursor/sessions/{id}/stats",
        `/api/v1/cursor/sessions/${w.session.id}/stats?bucket=1s`,
        w.session.token,
      ],
      [
        "GET /api/v1/cursor/sessions/{id}/events",
        `/api/v1/cursor/sessions/${w.session.id}/events?limit=2`,
        w.session.token,
      ],
    ];
    const violations: string[] = [];
    const byKey = new Map(operationsOf(doc).map((o) => [o.key, o]));
    for (const [key, path, token] of cases) {
      const operation = byKey.get(key);
      expect(operation, key).toBeDefined();
      const res = await call(path, { token });
      expect(res.status, path).toBeLessThan(300);
      violations.push(...(await responseViolations(doc, operation!, res)));
    }
    expect(violations).toEqual([]);
  });

  it("304s carry the declared cache headers, anonymous and signed in", async () => {
    const byKey = new Map(operationsOf(doc).map((o) => [o.key, o]));
    const violations: string[] = [];
    for (const [key, path] of [
      ["GET /api/v1/products", "/api/v1/products"],
      ["GET /api/v1/products/{sku}", `/api/v1/products/${w.product.sku}`],
    ] as const) {
      for (const token of [undefined, w.member.token]) {
        const first = await call(path, { token });
        violations.push(...(await responseViolations(doc, byKey.get(key)!, first)));
        const etag = first.headers.get("etag");
        expect(etag, path).toBeTruthy();
        const again = await call(path, { token, headers: { "if-none-match": etag! } });
        expect(again.status, path).toBe(304);
        violations.push(...(await responseViolations(doc, byKey.get(key)!, again)));
      }
    }
    expect(violations).toEqual([]);
  });

  it("WebSocket frames match the documented CursorFrame", async () => {
    const res = await call(`/api/v1/cursor/sessions/${w.otherSession.id}/live?token=${w.otherSession.token}`, {
      headers: { Upgrade: "websocket" },
    });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    const frames: unknown[] = [];
    const got = new Promise<void>((resolveFrames) => {
      ws.addEventListener("message", (event) => {
        if (event.data === "pong") return;
        frames.push(JSON.parse(event.data as string));
        if (frames.length >= 2) resolveFrames();
      });
    });
    ws.accept();
    await api2(`/api/v1/cursor/sessions/${w.otherSession.id}/events`, w.otherSession.token, {
      events: cursorEvents(4),
    });
    await got;
    ws.close(1000, "done");
    const schema = resolve(doc, { $ref: "#/components/schemas/CursorFrame" });
    for (const frame of frames) expect(validate(doc, schema, frame)).toEqual([]);
  });
});

async function api2(path: string, token: string, json: unknown) {
  const res = await call(path, { method: "POST", token, json });
  expect(res.status).toBe(202);
}
