import { and, eq, isNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { refreshTokens, users } from "../db/schema";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { settings } from "../lib/settings";
import { generateOpaqueToken, sha256Hex } from "./tokens";

/**
 * Refresh tokens: each sign-in starts a family (its id is the sign-in's id, `sid` in its access tokens); each use
 * rotates the token (the parent is marked used, a child is issued) inside one db.batch(). Presenting a token that was
 * already rotated means two parties hold the family, so the whole family ends (RFC 9700 §4.14.2 reuse detection).
 * Every token gets a fresh lifetime, so an active sign-in slides; an idle one ends after REFRESH_TOKEN_TTL_DAYS.
 *
 * A token is `<family id>.<256 random bits>`, stored only as its SHA-256 hash. Because it names its family, a family
 * keeps just its current token and that token's parent (rotation deletes the rest), and a presented token that is no
 * longer stored but names a live family is still recognised as reuse. Ending a family deletes its rows, which also
 * ends its access tokens at once (require-auth's caller check finds no live row for their `sid`). A user keeps at
 * most MAX_SIGN_INS families: a new sign-in ends the least recently used beyond that.
 */
export const MAX_SIGN_INS = 50;

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

export type IssuedRefreshToken = { token: string; expiresAt: number; familyId: string };

const FAMILY = /^([0-9a-f-]{36})\./;

/** The family a presented token names, or null (a token from before families were named, or garbage). */
function familyOf(presented: string): string | null {
  return FAMILY.exec(presented)?.[1] ?? null;
}

async function newToken(familyId: string) {
  const token = `${familyId}.${generateOpaqueToken()}`;
  return { token, hash: await sha256Hex(token) };
}

/**
 * A new family for a fresh sign-in, as statements for the caller's db.batch() (so registering a user and issuing its
 * first token is all-or-nothing). Also deletes the user's expired tokens and the families beyond the newest
 * MAX_SIGN_INS - 1, which keeps the table bounded per user. A family in use always has a live row (its current
 * token expires REFRESH_TOKEN_TTL_DAYS after its last rotation), so the cleanup never ends a sign-in in use.
 */
export async function startFamily(db: Db, env: Env, userId: string, now: number) {
  const familyId = crypto.randomUUID();
  const { token, hash } = await newToken(familyId);
  const expiresAt = now + refreshTokenTtlMs(env);
  const newest = sql`(SELECT ${refreshTokens.familyId} FROM ${refreshTokens} WHERE ${refreshTokens.userId} = ${userId}
    GROUP BY ${refreshTokens.familyId} ORDER BY max(${refreshTokens.createdAt}) DESC LIMIT ${MAX_SIGN_INS - 1})`;
  const statements = [
    db.delete(refreshTokens).where(and(eq(refreshTokens.userId, userId), lt(refreshTokens.expiresAt, now))),
    db.delete(refreshTokens).where(and(eq(refreshTokens.userId, userId), notInArray(refreshTokens.familyId, newest))),
    db.insert(refreshTokens).values({
      id: familyId,
      userId,
      familyId,
      parentId: null,
      tokenHash: hash,
      createdAt: now,
      expiresAt,
    }),
  ] as const;
  return { issued: { token, expiresAt, familyId } satisfies IssuedRefreshToken, statements };
}

/** Ends every sign-in of a user (deletion, a new password, logout-all): a statement for the caller's batch. */
export function revokeUserTokens(db: Db, userId: string) {
  return db.delete(refreshTokens).where(eq(refreshTokens.userId, userId));
}

/** Ends one sign-in: its rows go, and with them its access tokens. */
export function endFamily(db: Db, familyId: string) {
  return db.delete(refreshTokens).where(eq(refreshTokens.familyId, familyId));
}

const INVALID = "The refresh token is invalid or has been revoked; sign in again.";

/**
 * Rotates a presented refresh token: returns the owner (its live row) and a new token, or throws 401. One read finds
 * the token, or else a row of the family it names (then it is an ancestor rotated away: reuse). The child row is
 * inserted by `INSERT … SELECT … WHERE parent still unused`, in the same batch that marks the parent used and drops
 * the family's older rows, so two concurrent uses of one token cannot both succeed: the loser is treated as reuse.
 */
export async function rotateRefreshToken(db: Db, env: Env, presented: string, now: number) {
  const hash = await sha256Hex(presented);
  const family = familyOf(presented);
  const [row] = await db
    .select({
      id: refreshTokens.id,
      userId: refreshTokens.userId,
      familyId: refreshTokens.familyId,
      tokenHash: refreshTokens.tokenHash,
      expiresAt: refreshTokens.expiresAt,
      usedAt: refreshTokens.usedAt,
      revokedAt: refreshTokens.revokedAt,
      // The owner comes with the token, so the caller can answer without reading the user again.
      user: users,
    })
    .from(refreshTokens)
    .innerJoin(users, eq(users.id, refreshTokens.userId))
    .where(
      family
        ? or(eq(refreshTokens.tokenHash, hash), eq(refreshTokens.familyId, family))
        : eq(refreshTokens.tokenHash, hash),
    )
    .orderBy(sql`${refreshTokens.tokenHash} = ${hash} DESC`)
    .limit(1);
  if (!row) throw new ApiError("unauthorized", INVALID);

  const decision =
    row.tokenHash !== hash ? "reuse" : row.user.deletedAt !== null ? "revoked" : rotationDecision(row, now);
  if (decision === "reuse") {
    await endFamily(db, row.familyId);
    log("warn", "refresh token reuse: family ended", { user_id: row.userId, family_id: row.familyId });
    throw new ApiError("unauthorized", INVALID);
  }
  if (decision === "expired") throw new ApiError("unauthorized", "The refresh token has expired; sign in again.");
  if (decision === "revoked") throw new ApiError("unauthorized", INVALID);

  const { token, hash: childHash } = await newToken(row.familyId);
  const childId = crypto.randomUUID();
  const expiresAt = now + refreshTokenTtlMs(env);
  const [inserted] = await db.batch([
    db.insert(refreshTokens).select(
      sql`SELECT ${childId}, user_id, family_id, id, ${childHash}, ${now}, ${expiresAt}, NULL, NULL
          FROM refresh_tokens WHERE id = ${row.id} AND used_at IS NULL AND revoked_at IS NULL`,
    ),
    db
      .update(refreshTokens)
      .set({ usedAt: now })
      .where(and(eq(refreshTokens.id, row.id), isNull(refreshTokens.usedAt))),
    // Only the parent is kept beside the child (a concurrent use of it is detected by the guarded insert above);
    // older tokens of the family are recognised as reuse by the family they name.
    db
      .delete(refreshTokens)
      .where(
        and(
          eq(refreshTokens.familyId, row.familyId),
          ne(refreshTokens.id, row.id),
          ne(refreshTokens.id, childId),
          sql`EXISTS (SELECT 1 FROM ${refreshTokens} WHERE ${refreshTokens.id} = ${childId})`,
        ),
      ),
  ]);
  if (inserted.meta.changes !== 1) {
    // Another request rotated this token between our read and our write: the same token was used twice.
    await endFamily(db, row.familyId);
    log("warn", "refresh token used concurrently: family ended", { user_id: row.userId, family_id: row.familyId });
    throw new ApiError("unauthorized", INVALID);
  }
  return {
    userId: row.userId,
    user: row.user,
    issued: { token, expiresAt, familyId: row.familyId } satisfies IssuedRefreshToken,
  };
}

/**
 * Logout: ends the family of the presented token. Unknown tokens are ignored (RFC 7009 §2.2), so it is idempotent.
 * Returns the family ended, if any.
 */
export async function revokeFamilyOf(db: Db, presented: string): Promise<string | null> {
  const hash = await sha256Hex(presented);
  const [row] = await db
    .delete(refreshTokens)
    .where(
      eq(
        refreshTokens.familyId,
        sql`(SELECT ${refreshTokens.familyId} FROM ${refreshTokens} WHERE ${refreshTokens.tokenHash} = ${hash})`,
      ),
    )
    .returning({ familyId: refreshTokens.familyId });
  return row?.familyId ?? null;
}
