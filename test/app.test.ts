import { createExecutionContext, createMessageBatch, createScheduledController, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { createRoute, z } from "@hono/zod-openapi";
import { describe, expect, it, vi } from "vitest";
import { createApp, MAX_BODY_BYTES } from "../src/app";
import worker from "../src/index";
import { ApiError } from "../src/lib/errors";
import { jsonBody, jsonContent } from "../src/lib/openapi";
import { call, expectProblem } from "./helpers";

/** The real app plus two probe routes, to exercise the error model end to end through every middleware. */
function appWithProbes() {
  const app = createApp();
  const Body = z.object({ title: z.string().min(1).max(10), count: z.number().int().min(0) });
  app.openapi(
    createRoute({
      method: "post",
      path: "/api/v1/probe",
      request: { body: jsonBody(Body) },
      responses: { 200: jsonContent(Body, "echo") },
    }),
    (c) => c.json(c.req.valid("json"), 200),
  );
  app.get("/api/v1/boom", () => {
    throw new Error("secret internals: password=hunter2");
  });
  app.get("/api/v1/conflict", () => {
    throw new ApiError("conflict", "Already there.", { extra: { ids: ["a"] } });
  });
  return app;
}

function probe(init: RequestInit, path = "/api/v1/probe") {
  return appWithProbes().fetch(new Request(`http://localhost${path}`, init), env, createExecutionContext());
}

describe("health", () => {
  it("reports the app and a live D1", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string; checks: { db: { status: string } } };
    expect(body).toMatchObject({ status: "ok", checks: { db: { status: "ok" } } });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("answers 503 when D1 does not answer, without leaking the error", async () => {
    const brokenDb = {
      prepare: () => {
        throw new Error("D1_ERROR: network connection lost (internal detail)");
      },
    } as unknown as D1Database;
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await createApp().fetch(
      new Request("http://localhost/health"),
      { ...env, DB: brokenDb },
      createExecutionContext(),
    );
    spy.mockRestore();
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ status: "degraded", checks: { db: { status: "error" } } });
    expect(text).not.toContain("internal detail");
  });
});

describe("one error model: application/problem+json", () => {
  it("400 for malformed JSON", async () => {
    const res = await probe({ method: "POST", headers: { "content-type": "application/json" }, body: '{"title": ' });
    const body = await expectProblem(res, 400);
    expect(body.type).toContain("malformed-json");
  });

  it("404 for an unknown route, with the request id", async () => {
    const res = await call("/api/v1/nothing-here");
    const body = await expectProblem(res, 404);
    expect(body.request_id).toBe(res.headers.get("x-request-id"));
    expect(body.instance).toBe("/api/v1/nothing-here");
  });

  it("405 with Allow for a known path and a wrong method", async () => {
    const res = await call("/health", { method: "DELETE" });
    await expectProblem(res, 405);
    expect(res.headers.get("allow")).toContain("GET");
  });

  it("413 past 1 MiB", async () => {
    const big = JSON.stringify({ title: "x".repeat(MAX_BODY_BYTES), count: 1 });
    const res = await probe({ method: "POST", headers: { "content-type": "application/json" }, body: big });
    await expectProblem(res, 413);
  });

  it("415 for a body that is not JSON", async () => {
    const res = await probe({ method: "POST", headers: { "content-type": "text/plain" }, body: "title=x" });
    await expectProblem(res, 415);
  });

  it("422 with one entry per offending field", async () => {
    const res = await probe({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "far too long a title", count: -1 }),
    });
    const body = await expectProblem(res, 422);
    expect(body.errors?.map((e) => e.path).sort()).toEqual(["count", "title"]);
  });

  it("400 for an empty JSON body, 422 for JSON of the wrong shape", async () => {
    const empty = await probe({ method: "POST", headers: { "content-type": "application/json" } });
    await expectProblem(empty, 400);
    const wrong = await probe({ method: "POST", headers: { "content-type": "application/json" }, body: "[1, 2]" });
    const body = await expectProblem(wrong, 422);
    expect(body.errors?.[0]?.path).toBe("(body)");
  });

  it("keeps extra members of an ApiError (e.g. offending ids) and the status", async () => {
    const res = await probe({ method: "GET" }, "/api/v1/conflict");
    const body = await expectProblem(res, 409);
    expect(body.ids).toEqual(["a"]);
  });

  it("500 with no stack or internals, logged with the request id", async () => {
    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
    const res = await probe({ method: "GET" }, "/api/v1/boom");
    spy.mockRestore();
    const text = await res.clone().text();
    const body = await expectProblem(res, 500);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("at ");
    const entry = logged.map((l) => JSON.parse(l)).find((l) => l.message === "unhandled error");
    expect(entry?.request_id).toBe(body.request_id);
    expect(entry?.error).toContain("secret internals");
  });

  it("the happy path still passes through every middleware", async () => {
    const res = await probe({
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ title: "ok", count: 2 }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ title: "ok", count: 2 });
  });
});

describe("CORS", () => {
  it("allows CORS only for allowlisted origins", async () => {
    const allowed = await call("/api/v1/nothing", {
      method: "OPTIONS",
      headers: { origin: "http://localhost:8787", "access-control-request-method": "GET" },
    });
    expect(allowed.headers.get("access-control-allow-origin")).toBe("http://localhost:8787");
    const denied = await call("/api/v1/nothing", {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("OpenAPI and docs", () => {
  it("generates an OpenAPI 3.1 document with the bearer scheme", async () => {
    const res = await call("/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.paths["/health"]).toBeDefined();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
  });

  it("serves Swagger UI whose assets come from the Worker itself", async () => {
    const res = await call("/docs");
    expect(res.status).toBe(200);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset.startsWith("/"), asset).toBe(true);
      // Static files are served by the assets binding in front of the Worker, as in production.
      const assetRes = await env.ASSETS.fetch(`http://localhost${asset}`);
      expect(assetRes.status, asset).toBe(200);
      await assetRes.arrayBuffer();
    }
  });
});

describe("background entry points", () => {
  it("acknowledges a batch from an unknown queue without throwing", async () => {
    const batch = createMessageBatch("no-such-queue", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { hello: 1 } },
    ]);
    const ctx = createExecutionContext();
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    await worker.queue(batch, env, ctx);
    spy.mockRestore();
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(true);
    expect(result.retryBatch.retry).toBe(false);
    expect(result.retryMessages).toEqual([]);
  });

  it("acknowledges views messages of an unknown type", async () => {
    const batch = createMessageBatch<unknown>("views", [
      { id: "a1", timestamp: new Date(), attempts: 1, body: { type: "no-such-type", id: "x" } },
      { id: "a2", timestamp: new Date(), attempts: 1, body: "not an object" },
    ]);
    const ctx = createExecutionContext();
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    await worker.queue(batch, env, ctx);
    spy.mockRestore();
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["a1", "a2"]);
  });

  it("logs dead-lettered views messages at error level with what they carried, and acknowledges them", async () => {
    const batch = createMessageBatch<unknown>("views-dlq", [
      { id: "d1", timestamp: new Date(), attempts: 4, body: { type: "product.view", id: "v1", sku: "s1", at: 1 } },
      { id: "d2", timestamp: new Date(), attempts: 4, body: "garbled" },
    ]);
    const ctx = createExecutionContext();
    const logged: string[] = [];
    const spy = vi.spyOn(console, "error").mockImplementation((line: string) => logged.push(line));
    await worker.queue(batch, env, ctx);
    spy.mockRestore();
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
    const entries = logged.map((line) => JSON.parse(line));
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({
      message: "views message dead-lettered: not applied",
      type: "product.view",
      sku: "s1",
    });
  });

  it("treats a queue named like an object property as unknown", async () => {
    const batch = createMessageBatch("constructor", [{ id: "p1", timestamp: new Date(), attempts: 1, body: {} }]);
    const ctx = createExecutionContext();
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    await worker.queue(batch, env, ctx);
    spy.mockRestore();
    expect((await getQueueResult(batch, ctx)).ackAll).toBe(true);
  });

  it("ignores an unknown cron expression without throwing", async () => {
    const controller = createScheduledController({ cron: "1 2 3 4 5", scheduledTime: new Date() });
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    await expect(worker.scheduled(controller, env)).resolves.toBeUndefined();
    expect(spy).toHaveBeenCalled();
    spy.mockRestore();
  });
});
