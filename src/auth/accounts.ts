import { and, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { toIso } from "../lib/time";
import { retireAccountTokens } from "./account-tokens";
import { hashPassword } from "./passwords";
import { revokeUserTokens } from "./refresh";

/** Usernames are stored lower-case: 3 to 30 of a-z 0-9 _ . - starting with a letter or digit. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{2,29}$/;

/** A soft-deleted user's row keeps its id (tasks stay attributed) but gives up its email and username for reuse. */
export const deletedEmail = (id: string) => `deleted+${id}@invalid`;
export const deletedUsername = (id: string) => `deleted-${id}`;
/** Never a valid scrypt hash, so nothing verifies against a deleted account. */
export const DISABLED_PASSWORD_HASH = "!deleted";

type UserRow = typeof users.$inferSelect;

/** The public shape of a user (never the hash). */
export function toUser(
  row: Pick<UserRow, "id" | "email" | "username" | "role" | "createdAt" | "updatedAt" | "emailVerifiedAt">,
) {
  return {
    id: row.id,
    email: row.email,
    username: row.username,
    role: row.role,
    email_verified: row.emailVerifiedAt !== null,
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
  };
}

/** `Jane.Doe+x@…` → `jane.doex`; padded to 3 characters, cut to 24 so a suffix still fits in 30. */
export function usernameBase(email: string): string {
  const local = email.split("@")[0] ?? "";
  let base = local
    .toLowerCase()
    .replace(/[^a-z0-9_.-]/g, "")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 24);
  if (base.length < 3) base = `${base}user`.slice(0, 24);
  return base;
}

/**
 * A free username derived from the email: the base itself, else the base with a short random suffix. One query
 * checks every candidate; the unique index still decides a race (the insert then answers 409).
 */
export async function uniqueUsername(db: Db, email: string): Promise<string> {
  const base = usernameBase(email);
  const candidates = [base, ...Array.from({ length: 5 }, () => `${base}-${crypto.randomUUID().slice(0, 4)}`)];
  const taken = await db.select({ username: users.username }).from(users).where(inArray(users.username, candidates));
  const used = new Set(taken.map((row) => row.username));
  return candidates.find((name) => !used.has(name)) ?? `${base}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Which unique index a failed insert/update hit (a race the pre-check did not see), else null. */
export function uniqueViolation(error: unknown): "email" | "username" | null {
  const text = `${error instanceof Error ? error.message : ""} ${error instanceof Error && error.cause instanceof Error ? error.cause.message : ""}`;
  if (!/UNIQUE constraint failed/i.test(text)) return null;
  if (/users\.email/.test(text)) return "email";
  if (/users\.username/.test(text)) return "username";
  return null;
}

/** 409 naming the field that is taken. */
export function conflict(field: "email" | "username"): ApiError {
  return new ApiError("conflict", `That ${field} is already taken.`, {
    errors: [{ path: field, message: `${field} already taken` }],
  });
}

/**
 * 409 when the email or username belongs to another live or deleted row (deleted rows have rewritten values, so in
 * practice only live users conflict). The superuser's configured email is reserved even before that account exists.
 */
export async function assertAvailable(
  db: Db,
  env: Env,
  wanted: { email?: string; username?: string },
  selfId?: string,
) {
  if (wanted.email && wanted.email === superuserEmail(env)) throw conflict("email");
  const checks = [];
  if (wanted.email) checks.push(eq(users.email, wanted.email));
  if (wanted.username) checks.push(eq(users.username, wanted.username));
  if (checks.length === 0) return;
  // One query for both: each column is unique, so at most two rows match.
  const rows = await db
    .select({ id: users.id, email: users.email })
    .from(users)
    .where(or(...checks))
    .limit(2);
  const others = rows.filter((row) => row.id !== selfId);
  if (others.length === 0) return;
  throw conflict(others.some((row) => row.email === wanted.email) ? "email" : "username");
}

export function superuserEmail(env: Env): string | null {
  return env.SUPERUSER_EMAIL ? env.SUPERUSER_EMAIL.trim().toLowerCase() : null;
}

/**
 * Makes sure the superuser from SUPERUSER_EMAIL / SUPERUSER_PASSWORD exists. `npm start` seeds it; the Worker also
 * calls this when someone signs in with that email and no such user is found, so a fresh deployment needs no script.
 * Idempotent (INSERT … ON CONFLICT DO NOTHING); an existing row is never changed, whatever its role.
 */
export async function ensureSuperuser(db: Db, env: Env, now: number): Promise<boolean> {
  const email = superuserEmail(env);
  if (!email || !env.SUPERUSER_PASSWORD) return false;
  const [existing] = await db
    .select({ id: users.id })
    .from(users)
    .where(and(eq(users.email, email), isNull(users.deletedAt)))
    .limit(1);
  if (existing) return false;
  const result = await db
    .insert(users)
    .values({
      id: crypto.randomUUID(),
      email,
      username: await uniqueUsername(db, email),
      passwordHash: await hashPassword(env.SUPERUSER_PASSWORD),
      role: "superuser",
      // Configuration vouches for the superuser's address.
      emailVerifiedAt: now,
      createdAt: now,
      updatedAt: now,
    })
    .onConflictDoNothing();
  const created = result.meta.changes === 1;
  if (created) log("info", "superuser created from SUPERUSER_EMAIL", { email });
  return created;
}

/**
 * A soft delete, as statements for one batch: the row stays (tasks stay attributed) but gives up its email and
 * username, its password never verifies again, its token version goes up (every access and device token ends), and
 * every sign-in and mailed token goes.
 */
export function deletionStatements(db: Db, id: string, now: number) {
  return [
    db
      .update(users)
      .set({
        deletedAt: now,
        updatedAt: now,
        email: deletedEmail(id),
        username: deletedUsername(id),
        passwordHash: DISABLED_PASSWORD_HASH,
        tokenVersion: sql`${users.tokenVersion} + 1`,
      })
      .where(and(eq(users.id, id), isNull(users.deletedAt))),
    revokeUserTokens(db, id),
    retireAccountTokens(db, id),
  ] as const;
}
