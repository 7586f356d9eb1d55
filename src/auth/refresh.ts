import { and, eq, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { refreshTokens, users } from "../db/schema";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { settings } from "../lib/settings";
import { generateOpaqueToken, sha256Hex } from "./tokens";

/**
 * Refresh tokens: opaque 256-bit strings, stored only as SHA-256 hashes. Each login starts a family; each use rotates
 * the token (the parent is marked used, a child is issued) inside one db.batch(). Presenting a token that was already
 * rotated means two parties hold the family, so the whole family is revoked (RFC 9700 §4.14.2 reuse detection).
 * Every token gets a fresh lifetime, so an active session slides; an idle one ends after REFRESH_TOKEN_TTL_DAYS.
 */

export type RefreshState = { expiresAt: number; usedAt: number | null; revokedAt: number | null };
export type RotationDecision = "rotate" | "reuse" | "revoked" | "expired";

/**
 * What to do with a presented token. A revoked family stays dead; a used token is reuse even when expired (its
 * successor may still be alive, and ending it is the safe answer); only an unused, live token rotates.
 */
export function rotationDecision(token: RefreshState, now: number): RotationDecision {
  if (token.revokedAt !== null) return "revoked";
  if (token.usedAt !== null) return "reuse";
  if (token.expiresAt <= now) return "expired";
  return "rotate";
}

export function refreshTokenTtlMs(env: Env): number {
  return settings(env).refreshTokenTtlDays * 24 * 60 * 60 * 1000;
}

export type IssuedRefreshToken = { token: string; expiresAt: number };

/**
 * A new family for a fresh sign-in, as statements for the caller's db.batch() (so registering a user and issuing its
 * first token is all-or-nothing). Also drops the user's expired tokens, which keeps the table bounded per user.
 */
export async function startFamily(db: Db, env: Env, userId: string, now: number) {
  const token = generateOpaqueToken();
  const id = crypto.randomUUID();
  const expiresAt = now + refreshTokenTtlMs(env);
  const statements = [
    db.delete(refreshTokens).where(and(eq(refreshTokens.userId, userId), lt(refreshTokens.expiresAt, now))),
    db.insert(refreshTokens).values({
      id,
      userId,
      familyId: id,
      parentId: null,
      tokenHash: await sha256Hex(token),
      createdAt: now,
      expiresAt,
    }),
  ] as const;
  return { issued: { token, expiresAt } satisfies IssuedRefreshToken, statements };
}

/** Ends every live token of a user (deletion, password change): a statement for the caller's batch. */
export function revokeUserTokens(db: Db, userId: string, now: number) {
  return db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.userId, userId), isNull(refreshTokens.revokedAt)));
}

function revokeFamily(db: Db, familyId: string, now: number) {
  return db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)));
}

const INVALID = "The refresh token is invalid or has been revoked; sign in again.";

/**
 * Rotates a presented refresh token: returns the owner (its live row) and a new token, or throws 401. The child row is inserted by
 * `INSERT … SELECT … WHERE parent still unused`, in the same batch that marks the parent used, so two concurrent
 * uses of one token cannot both succeed: the loser inserts nothing and is treated as reuse.
 */
export async function rotateRefreshToken(db: Db, env: Env, presented: string, now: number) {
  const [row] = await db
    .select({
      id: refreshTokens.id,
      userId: refreshTokens.userId,
      familyId: refreshTokens.familyId,
      expiresAt: refreshTokens.expiresAt,
      usedAt: refreshTokens.usedAt,
      revokedAt: refreshTokens.revokedAt,
      // The owner comes with the token, so the caller can answer without reading the user again.
      user: users,
    })
    .from(refreshTokens)
    .innerJoin(users, eq(users.id, refreshTokens.userId))
    .where(eq(refreshTokens.tokenHash, await sha256Hex(presented)))
    .limit(1);
  if (!row) throw new ApiError("unauthorized", INVALID);

  const decision = row.user.deletedAt !== null ? "revoked" : rotationDecision(row, now);
  if (decision === "reuse") {
    await revokeFamily(db, row.familyId, now);
    log("warn", "refresh token reuse: family revoked", { user_id: row.userId, family_id: row.familyId });
    throw new ApiError("unauthorized", INVALID);
  }
  if (decision === "expired") throw new ApiError("unauthorized", "The refresh token has expired; sign in again.");
  if (decision === "revoked") throw new ApiError("unauthorized", INVALID);

  const token = generateOpaqueToken();
  const expiresAt = now + refreshTokenTtlMs(env);
  const [inserted] = await db.batch([
    db.insert(refreshTokens).select(
      sql`SELECT ${crypto.randomUUID()}, user_id, family_id, id, ${await sha256Hex(token)}, ${now}, ${expiresAt}, NULL, NULL
          FROM refresh_tokens WHERE id = ${row.id} AND used_at IS NULL AND revoked_at IS NULL`,
    ),
    db
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt))),
  ]);
  if (inserted.meta.changes !== 1) {
    // Another request rotated this token between our read and our write: the same token was used twice.
    await revokeFamily(db, row.familyId, now);
    log("warn", "refresh token used concurrently: family revoked", { user_id: row.userId, family_id: row.familyId });
    throw new ApiError("unauthorized", INVALID);
  }
  return { userId: row.userId, user: row.user, issued: { token, expiresAt } satisfies IssuedRefreshToken };
}

/** Logout: revokes the family of the presented token. Unknown tokens are ignored (RFC 7009 §2.2), so it is idempotent. */
export async function revokeFamilyOf(db: Db, presented: string, now: number): Promise<number> {
  const hash = await sha256Hex(presented);
  const result = await db
    .update(refreshTokens)
    .set({ revokedAt: now })
    .where(
      and(
        isNull(refreshTokens.revokedAt),
        eq(
          refreshTokens.familyId,
          sql`(SELECT ${refreshTokens.familyId} FROM ${refreshTokens} WHERE ${refreshTokens.tokenHash} = ${hash})`,
        ),
      ),
    );
  return result.meta.changes;
}
