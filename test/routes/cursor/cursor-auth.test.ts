import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  authorizeSession,
  CURSOR_TOKEN_TTL_SECONDS,
  signCursorToken,
  verifiedTokenCount,
} from "../../../src/auth/session-tokens";
import { getDb } from "../../../src/db/client";
import { ApiError } from "../../../src/lib/errors";
import { api, expectProblem } from "../../helpers";

async function status(promise: Promise<unknown>): Promise<number | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

describe("session token cache (per isolate)", () => {
  afterEach(() => vi.useRealTimers());

  it("remembers a verified token, yet still refuses it for another session (403)", async () => {
    const a = crypto.randomUUID();
    const b = crypto.randomUUID();
    const token = await signCursorToken(env, a);
    const before = verifiedTokenCount();
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${token}`))).toBe("ok");
    expect(verifiedTokenCount()).toBe(before + 1);
    // Served from the cache this time, and the subject is still compared with the session.
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${token}`))).toBe("ok");
    expect(await status(authorizeSession(env, getDb(env.DB), b, `Bearer ${token}`))).toBe(403);
    expect(verifiedTokenCount()).toBe(before + 1);
  });

  it("never lets a cached token vouch for an altered one", async () => {
    const a = crypto.randomUUID();
    const token = await signCursorToken(env, a);
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${token}`))).toBe("ok");
    const [header, payload, signature] = token.split(".");
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith("A") ? "BB" : "AA"}`;
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${header}.${payload}.${flipped}`))).toBe(401);
  });

  it("does not use an entry past the token's own expiry", async () => {
    const a = crypto.randomUUID();
    // Expires 30 s from now.
    const token = await signCursorToken(env, a, Date.now() - CURSOR_TOKEN_TTL_SECONDS * 1000 + 30_000);
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${token}`))).toBe("ok");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60_000);
    expect(await status(authorizeSession(env, getDb(env.DB), a, `Bearer ${token}`))).toBe(401);
  });
});

describe("posting events: the token is checked before the body", () => {
  async function session() {
    const res = await api("/cursor/sessions", { method: "POST", json: { viewport: { width: 800, height: 600 } } });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; token: string };
  }
  const badBody = { events: [{ x: "left", y: 1, t: -5 }] };

  it("answers 401 to an anonymous caller and 403 to another session's token, whatever the body", async () => {
    const mine = await session();
    const other = await session();
    await expectProblem(await api(`/cursor/sessions/${mine.id}/events`, { method: "POST", json: badBody }), 401);
    await expectProblem(
      await api(`/cursor/sessions/${mine.id}/events`, { method: "POST", json: badBody, token: other.token }),
      403,
    );
    const own = await expectProblem(
      await api(`/cursor/sessions/${mine.id}/events`, { method: "POST", json: badBody, token: mine.token }),
      422,
    );
    expect(own.errors?.map((e) => e.path)).toContain("events.0.x");
  });

  it("still answers 400 for a malformed session id", async () => {
    const mine = await session();
    await expectProblem(
      await api("/cursor/sessions/not-a-uuid/events", { method: "POST", json: badBody, token: mine.token }),
      400,
    );
  });
});
