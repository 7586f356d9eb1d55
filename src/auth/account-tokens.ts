import { and, eq, gt, isNull, lte, ne, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { insertSelect } from "../db/insert-select";
import { type AccountTokenPurpose, accountTokens, users } from "../db/schema";
import { generateOpaqueToken, sha256Hex } from "./tokens";

/**
 * Mailed single-use tokens: email verification (24 h) and password reset (30 min). 256 random bits; only the
 * SHA-256 hash is stored (a database reader cannot use them), and the mail's copy is sealed (src/mail/seal.ts).
 * Issuing a new one deletes the user's earlier ones of the same purpose (only the newest mail works) and the user's
 * spent or expired ones, and spending one deletes it, so an account holds at most one row per purpose. A token is
 * bound to the address it was sent to: once the account's email changes, or the account is deleted, it stops working.
 */
export const TOKEN_TTL_MS: Record<AccountTokenPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  password_reset: 30 * 60 * 1000,
};

export type IssuedAccountToken = { id: string; token: string; expiresAt: number };

/**
 * Statements for the caller's db.batch() that issue a token of `purpose` to `user`, plus the raw token to mail and
 * `issuedGuard`, an SQL condition true in the same batch only if the token was inserted (for the mail's row).
 * `unlessLiveSince`: insert nothing while the user holds an unspent, unexpired token of this purpose issued after
 * that time (the newest mail already in the inbox still works), and nothing unless the account is still live with
 * that address; the whole check is part of the INSERT, so concurrent requests cannot both issue.
 */
export async function issueAccountToken(
  db: Db,
  user: { id: string; email: string },
  purpose: AccountTokenPurpose,
  now: number,
  options: { unlessLiveSince?: number } = {},
) {
  const token = generateOpaqueToken();
  const id = crypto.randomUUID();
  const expiresAt = now + TOKEN_TTL_MS[purpose];
  const values = {
    id,
    userId: user.id,
    purpose,
    email: user.email,
    tokenHash: await sha256Hex(token),
    createdAt: now,
    expiresAt,
  };
  const issuedGuard: SQL = sql`EXISTS (SELECT 1 FROM ${accountTokens} WHERE ${accountTokens.id} = ${id})`;
  const insert =
    options.unlessLiveSince === undefined
      ? db.insert(accountTokens).values(values)
      : insertSelect(db, accountTokens, values, {
          where: sql`NOT EXISTS (SELECT 1 FROM ${accountTokens} WHERE ${and(
            eq(accountTokens.userId, user.id),
            eq(accountTokens.purpose, purpose),
            isNull(accountTokens.usedAt),
            gt(accountTokens.expiresAt, now),
            gt(accountTokens.createdAt, options.unlessLiveSince),
          )}) AND EXISTS (SELECT 1 FROM ${users} WHERE ${and(
            eq(users.id, user.id),
            eq(users.email, user.email),
            isNull(users.deletedAt),
          )})`,
        });
  const statements = [
    insert,
    // Only once the new one exists: the earlier ones of this purpose, and whatever of the user's is spent or expired.
    db
      .delete(accountTokens)
      .where(
        and(
          eq(accountTokens.userId, user.id),
          ne(accountTokens.id, id),
          or(
            eq(accountTokens.purpose, purpose),
            sql`${accountTokens.usedAt} IS NOT NULL`,
            lte(accountTokens.expiresAt, now),
          ),
          issuedGuard,
        ),
      ),
  ] as const;
  return { issued: { id, token, expiresAt } satisfies IssuedAccountToken, statements, issuedGuard };
}

/** What makes a token usable: right purpose, unused, unexpired, and its user live with the same address. */
function usable(hash: string, purpose: AccountTokenPurpose, now: number) {
  return and(
    eq(accountTokens.tokenHash, hash),
    eq(accountTokens.purpose, purpose),
    isNull(accountTokens.usedAt),
    gt(accountTokens.expiresAt, now),
    sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.id} = ${accountTokens.userId} AND ${users.email} = ${accountTokens.email} AND ${users.deletedAt} IS NULL)`,
  );
}

/** Reads a usable token's user without spending it (to validate a request before anything is written). */
export async function peekAccountToken(db: Db, presented: string, purpose: AccountTokenPurpose, now: number) {
  const [row] = await db
    .select({ tokenId: accountTokens.id, user: users })
    .from(accountTokens)
    .innerJoin(users, eq(users.id, accountTokens.userId))
    .where(usable(await sha256Hex(presented), purpose, now))
    .limit(1);
  return row ?? null;
}

/**
 * Spends a token: one DELETE … WHERE usable … RETURNING, so of two concurrent uses exactly one gets the row.
 * Returns the user id and address it was for, or null (unknown, used, expired, wrong purpose, user gone).
 */
export async function claimAccountToken(db: Db, presented: string, purpose: AccountTokenPurpose, now: number) {
  const [row] = await db
    .delete(accountTokens)
    .where(usable(await sha256Hex(presented), purpose, now))
    .returning({ userId: accountTokens.userId, email: accountTokens.email });
  return row ?? null;
}

/** Every token of a user (deletion, reset, a new address), or those of one purpose: a statement for a batch. */
export function retireAccountTokens(db: Db, userId: string, purpose?: AccountTokenPurpose) {
  return db
    .delete(accountTokens)
    .where(and(eq(accountTokens.userId, userId), purpose ? eq(accountTokens.purpose, purpose) : undefined));
}
