import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createApp } from "../../../src/app";
import { call, tableCounts } from "../../helpers";

describe("GET /health/live", () => {
  it("answers a constant JSON body", async () => {
    const res = await call("/health/live");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("passes through the same middleware as every route (request id, security headers)", async () => {
    const res = await call("/health/live");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  });

  it("never touches the database, so it answers while D1 is down", async () => {
    let prepared = 0;
    const brokenDb = {
      prepare: () => {
        prepared += 1;
        throw new Error("D1 is down");
      },
    } as unknown as D1Database;
    const res = await createApp().fetch(
      new Request("http://localhost/health/live"),
      { ...env, DB: brokenDb },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(prepared).toBe(0);
  });

  it("writes nothing", async () => {
    const before = await tableCounts();
    await call("/health/live");
    expect(await tableCounts()).toEqual(before);
  });

  it("answers 405 with Allow for other methods", async () => {
    const res = await call("/health/live", { method: "POST" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("GET");
  });

  it("is documented in the OpenAPI document", async () => {
    const doc = (await (await call("/openapi.json")).json()) as { paths: Record<string, unknown> };
    expect(doc.paths["/health/live"]).toBeDefined();
  });
});
