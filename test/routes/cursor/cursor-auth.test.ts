import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../../../src/lib/errors";
import {
  authorizeSession,
  CURSOR_TOKEN_TTL_SECONDS,
  signCursorToken,
  verifiedTokenCount,
} from "../../../src/routes/cursor/cursor.auth";

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
    expect(await status(authorizeSession(env, a, `Bearer ${token}`))).toBe("ok");
    expect(verifiedTokenCount()).toBe(before + 1);
    // Served from the cache this time, and the subject is still compared with the session.
    expect(await status(authorizeSession(env, a, `Bearer ${token}`))).toBe("ok");
    expect(await status(authorizeSession(env, b, `Bearer ${token}`))).toBe(403);
    expect(verifiedTokenCount()).toBe(before + 1);
  });

  it("never lets a cached token vouch for an altered one", async () => {
    const a = crypto.randomUUID();
    const token = await signCursorToken(env, a);
    expect(await status(authorizeSession(env, a, `Bearer ${token}`))).toBe("ok");
    const [header, payload, signature] = token.split(".");
    const flipped = `${signature!.slice(0, -2)}${signature!.endsWith("A") ? "BB" : "AA"}`;
    expect(await status(authorizeSession(env, a, `Bearer ${header}.${payload}.${flipped}`))).toBe(401);
  });

  it("does not use an entry past the token's own expiry", async () => {
    const a = crypto.randomUUID();
    // Expires 30 s from now.
    const token = await signCursorToken(env, a, Date.now() - CURSOR_TOKEN_TTL_SECONDS * 1000 + 30_000);
    expect(await status(authorizeSession(env, a, `Bearer ${token}`))).toBe("ok");
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 60_000);
    expect(await status(authorizeSession(env, a, `Bearer ${token}`))).toBe(401);
  });
});
