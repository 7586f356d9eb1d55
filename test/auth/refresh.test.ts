import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { MAX_SIGN_INS, rotateRefreshToken, rotationDecision, startFamily } from "../../src/auth/refresh";
import { signAccessToken } from "../../src/auth/tokens";
import { getDb } from "../../src/db/client";
import { ApiError } from "../../src/lib/errors";
import { api, createUser } from "../helpers";

describe("rotationDecision", () => {
  const now = 1_000_000;
  it.each([
    ["an unused live token rotates", { expiresAt: now + 1, usedAt: null, revokedAt: null }, "rotate"],
    ["a used token is reuse", { expiresAt: now + 1, usedAt: now - 5, revokedAt: null }, "reuse"],
    ["a used and expired token is still reuse", { expiresAt: now - 1, usedAt: now - 5, revokedAt: null }, "reuse"],
    ["a revoked token stays revoked", { expiresAt: now + 1, usedAt: now - 5, revokedAt: now - 1 }, "revoked"],
    ["an expired unused token is expired", { expiresAt: now - 1, usedAt: null, revokedAt: null }, "expired"],
    ["expiry is exclusive", { expiresAt: now, usedAt: null, revokedAt: null }, "expired"],
  ] as const)("%s", (_label, state, expected) => {
    expect(rotationDecision(state, now)).toBe(expected);
  });
});

describe("rotateRefreshToken against D1", () => {
  it("rotates with a fresh lifetime, links the child to its parent, and refuses the parent afterwards", async () => {
    const db = getDb(env.DB);
    const user = await createUser("member");
    const t0 = Date.now();
    const { issued, statements } = await startFamily(db, env, user.id, t0);
    await db.batch([...statements]);
    expect(issued.expiresAt - t0).toBe(30 * 86_400_000);

    const t1 = t0 + 60_000;
    const rotated = await rotateRefreshToken(db, env, issued.token, t1);
    expect(rotated.userId).toBe(user.id);
    expect(rotated.issued.expiresAt).toBe(t1 + 30 * 86_400_000);

    const error = await rotateRefreshToken(db, env, issued.token, t1 + 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);
    // Reuse revoked the family: the child is dead too.
    await expect(rotateRefreshToken(db, env, rotated.issued.token, t1 + 2)).rejects.toBeInstanceOf(ApiError);
  });

  it("an expired token is refused as expired, and a new sign-in drops the user's expired rows", async () => {
    const db = getDb(env.DB);
    const user = await createUser("member");
    const t0 = Date.now();
    const first = await startFamily(db, env, user.id, t0);
    await db.batch([...first.statements]);
    const later = t0 + 31 * 86_400_000;
    const error = (await rotateRefreshToken(db, env, first.issued.token, later).catch((e: unknown) => e)) as ApiError;
    expect(error.detail).toMatch(/expired/);

    const second = await startFamily(db, env, user.id, later);
    await db.batch([...second.statements]);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>();
    expect(rows?.n).toBe(1);
  });
});

describe("what one user can add to refresh_tokens", () => {
  it(`keeps at most ${MAX_SIGN_INS} sign-ins: the least recently used end, and their access tokens with them`, async () => {
    const db = getDb(env.DB);
    const user = await createUser("member");
    const t0 = Date.now();
    const first = await startFamily(db, env, user.id, t0);
    await db.batch([...first.statements]);
    const firstAccess = await signAccessToken(env, user, undefined, first.issued.familyId);
    expect((await api("/auth/me", { token: firstAccess })).status).toBe(200);
    for (let i = 1; i <= MAX_SIGN_INS + 5; i++) {
      const { statements } = await startFamily(db, env, user.id, t0 + i);
      await db.batch([...statements]);
    }
    const families = await env.DB.prepare("SELECT count(DISTINCT family_id) AS n FROM refresh_tokens WHERE user_id = ?")
      .bind(user.id)
      .first<{ n: number }>();
    expect(families?.n).toBe(MAX_SIGN_INS);
    expect((await api("/auth/me", { token: firstAccess })).status).toBe(401);
  });

  it("a sign-in that rotates a hundred times keeps two rows: its current token and that token's parent", async () => {
    const db = getDb(env.DB);
    const user = await createUser("member");
    const { issued, statements } = await startFamily(db, env, user.id, Date.now());
    await db.batch([...statements]);
    let token = issued.token;
    for (let i = 0; i < 100; i++) token = (await rotateRefreshToken(db, env, token, Date.now())).issued.token;
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM refresh_tokens WHERE family_id = ?")
      .bind(issued.familyId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(2);
    // The first token, long gone from the table, is still known as this family's: presenting it ends the family.
    await expect(rotateRefreshToken(db, env, issued.token, Date.now())).rejects.toBeInstanceOf(ApiError);
    await expect(rotateRefreshToken(db, env, token, Date.now())).rejects.toBeInstanceOf(ApiError);
  });
});
