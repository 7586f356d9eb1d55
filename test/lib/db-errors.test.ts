import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { DrizzleQueryError, sql } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { getDb } from "../../src/db/client";
import { clientCausedDatabaseError, isDatabaseError } from "../../src/lib/db-errors";

/** The error D1 really throws for a statement (never a hand-written copy of its message). */
async function d1Error(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error("the statement did not fail");
}

const tooComplexLike = () => env.DB.prepare("SELECT 'a' LIKE ?1").bind("%".repeat(60)).first();
const tooBig = () => env.DB.prepare("SELECT zeroblob(2000000000)").first();

describe("clientCausedDatabaseError", () => {
  it("classifies D1's own refusals of the input as the client's error", async () => {
    const like = await d1Error(tooComplexLike);
    expect(isDatabaseError(like)).toBe(true);
    expect(clientCausedDatabaseError(like)).toMatchObject({ code: "bad_request" });
    const big = await d1Error(tooBig);
    expect(clientCausedDatabaseError(big)).toMatchObject({ code: "payload_too_large" });
    const variables = new Error("D1_ERROR: too many SQL variables at offset 412: SQLITE_ERROR");
    expect(clientCausedDatabaseError(variables)).toMatchObject({ code: "validation_failed" });
  });

  it("looks through drizzle's wrapper to the D1 error it caused", async () => {
    const wrapped = await d1Error(() => getDb(env.DB).all(sql`SELECT 'a' LIKE ${"_".repeat(60)}`));
    expect(wrapped).toBeInstanceOf(DrizzleQueryError);
    expect(clientCausedDatabaseError(wrapped)).toMatchObject({ code: "bad_request" });
  });

  it("keeps the database failing a 503 matter, even when the client's text quotes a client-error message", () => {
    const outage = new Error("D1 DB is overloaded. Requests queued for too long.");
    expect(isDatabaseError(outage)).toBe(true);
    expect(clientCausedDatabaseError(outage)).toBeNull();
    const quoting = new DrizzleQueryError("SELECT ? -- params: LIKE or GLOB pattern too complex", ["x"], outage);
    expect(clientCausedDatabaseError(quoting)).toBeNull();
    expect(clientCausedDatabaseError(new Error("LIKE or GLOB pattern too complex"))).toBeNull(); // not from D1
    expect(clientCausedDatabaseError("D1_ERROR: string or blob too big")).toBeNull();
  });
});

describe("app.onError", () => {
  async function answer(error: unknown) {
    const app = createApp();
    app.get("/api/v1/__db_error", () => {
      throw error;
    });
    return app.fetch(new Request("http://localhost/api/v1/__db_error"), env, createExecutionContext());
  }

  it("answers a client-caused D1 error with a 4xx problem and no Retry-After", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const res = await answer(await d1Error(tooComplexLike));
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.headers.get("retry-after")).toBeNull();
    const big = await answer(await d1Error(tooBig));
    expect(big.status).toBe(413);
    vi.restoreAllMocks();
  });

  it("keeps 503 with Retry-After for the database being unavailable", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await answer(new Error("D1 DB is overloaded. Requests queued for too long."));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    vi.restoreAllMocks();
  });
});
