import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { type AccountTokenPurpose, accountTokens, users } from "../db/schema";
import { settings } from "../lib/settings";
import { generateOpaqueToken, sha256Hex } from "./tokens";

/**
 * Mailed single-use tokens: email verification (24 h) and password reset (30 min). 256 random bits, only the
 * SHA-256 hash is stored (a database reader cannot use them). Issuing a new one retires the user's earlier unused
 * ones of the same purpose, so only the newest mail works. A token is bound to the address it was sent to: once the
 * account's email changes, or the account is deleted, it stops working.
 */
export const TOKEN_TTL_MS: Record<AccountTokenPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  password_reset: 30 * 60 * 1000,
};

export type IssuedAccountToken = { token: string; expiresAt: number };

/** Statements for the caller's db.batch() plus the raw token to mail. */
export async function issueAccountToken(
  db: Db,
  user: { id: string; email: string },
  purpose: AccountTokenPurpose,
  now: number,
) {
  const token = generateOpaqueToken();
  const expiresAt = now + TOKEN_TTL_MS[purpose];
  const statements = [
    // Housekeeping: the user's expired tokens go; earlier live ones of this purpose are retired.
    db.delete(accountTokens).where(and(eq(accountTokens.userId, user.id), lt(accountTokens.expiresAt, now))),
    db
      .update(accountTokens)
      .set({ usedAt: now })
      .where(and(eq(accountTokens.userId, user.id), eq(accountTokens.purpose, purpose), isNull(accountTokens.usedAt))),
    db.insert(accountTokens).values({
      id: crypto.randomUUID(),
      userId: user.id,
      purpose,
      email: user.email,
      tokenHash: await sha256Hex(token),
      createdAt: now,
      expiresAt,
    }),
  ] as const;
  return { issued: { token, expiresAt } satisfies IssuedAccountToken, statements };
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
 * Spends a token: one UPDATE … WHERE unused … RETURNING, so of two concurrent uses exactly one gets the row.
 * Returns the user id and address it was for, or null (unknown, used, expired, wrong purpose, user gone).
 */
export async function claimAccountToken(db: Db, presented: string, purpose: AccountTokenPurpose, now: number) {
  const [row] = await db
    .update(accountTokens)
    .set({ usedAt: now })
    .where(usable(await sha256Hex(presented), purpose, now))
    .returning({ userId: accountTokens.userId, email: accountTokens.email });
  return row ?? null;
}

/** Every unused token of a user (deletion, reset): a statement for the caller's batch. */
export function retireAccountTokens(db: Db, userId: string, now: number, purpose?: AccountTokenPurpose) {
  return db
    .update(accountTokens)
    .set({ usedAt: now })
    .where(
      and(
        eq(accountTokens.userId, userId),
        isNull(accountTokens.usedAt),
        purpose ? eq(accountTokens.purpose, purpose) : undefined,
      ),
    );
}

/** ACCOUNT_MAIL_MAX_PER_HOUR: verification and reset mails per address per hour (default 3). */
export function accountMailLimit(env: Env, email: string) {
  return { key: `mail:${email}`, max: settings(env).accountMailMaxPerHour, windowMs: 3_600_000 };
}

export const WITHHELD = "[withheld: a single-use account token, readable only by its recipient]";

/**
 * The outbox API shows what was mailed, but never a live account token: an admin who could read a reset token of
 * another admin (or of the superuser) could take that account over. The token is the `Token:` line of the mail.
 */
export function withholdAccountToken(kind: string, bodies: { text: string; html: string }) {
  if (!kind.startsWith("account.")) return bodies;
  const token = bodies.text.match(/^Token: (\S+)$/m)?.[1];
  if (!token) return bodies;
  return { text: bodies.text.replaceAll(token, WITHHELD), html: bodies.html.replaceAll(token, WITHHELD) };
}
