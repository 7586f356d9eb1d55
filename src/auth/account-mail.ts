import { and, eq, isNull } from "drizzle-orm";
import { type Db, getDb } from "../db/client";
import type { AccountTokenPurpose } from "../db/schema";
import { users } from "../db/schema";
import type { WritePlan } from "../db/write-plan";
import { ApiError } from "../lib/errors";
import { log } from "../lib/log";
import { publicOrigin } from "../lib/public-origin";
import { type SettingsSource, settings } from "../lib/settings";
import { mailStatements, sendQueued } from "../mail/enqueue";
import { sealToken, WITHHELD } from "../mail/seal";
import { issueAccountToken } from "./account-tokens";
import { limits, takeAttempt } from "./rate-limit";

/**
 * Account mail: the verification mail (sign-up, and the signed-in owner's "send again") and the password-reset
 * mail (forgot password). These are the only mails that go to an address its account has not verified.
 *
 * Who can cause them, and what bounds each:
 * - verification: one per new account (sign-ups are limited per client and in all), and the owner's own resend,
 *   ACCOUNT_MAIL_MAX_PER_HOUR an hour per account (limits.resend), a budget nobody else can touch;
 * - reset: anyone who types the address. A forgot request is answered at once, the same for every address, and
 *   handled off the request path by the mail consumer ({@link mailPasswordReset}). It mails a new link unless the
 *   newest one, still unspent and unexpired, went out less than 1/ACCOUNT_MAIL_MAX_PER_HOUR of an hour ago: then
 *   that mail is in the inbox and works, so a stranger's requests can neither push it out nor leave the owner
 *   without a working link, and an address gets at most ACCOUNT_MAIL_MAX_PER_HOUR reset mails an hour (at least
 *   two an hour stay possible, as a link lives 30 minutes).
 */

/** Where each account mail sends a person: a console page that takes the token from the URL fragment. */
export const ACCOUNT_MAILS = {
  verify_email: { kind: "account.verify-email", page: "/verify-email" },
  password_reset: { kind: "account.password-reset", page: "/reset-password" },
} as const satisfies Record<AccountTokenPurpose, { kind: string; page: string }>;

/**
 * The link in an account mail: the console page on PUBLIC_ORIGIN (a path alone when that is unset) with the token in
 * the fragment, so it never reaches a server log or a Referer. Never the request's own origin: a forged Host on
 * "forgot password" would otherwise mail the victim a link that hands the token to the attacker's host.
 */
export function accountLink(env: SettingsSource, purpose: AccountTokenPurpose, token: string): string {
  return `${publicOrigin(env)?.origin ?? ""}${ACCOUNT_MAILS[purpose].page}#token=${token}`;
}

/** The least time between two reset mails to one address while the newer one still works. */
export function resetSpacingMs(env: SettingsSource): number {
  return Math.ceil(3_600_000 / settings(env).accountMailMaxPerHour);
}

type Recipient = { id: string; email: string; username: string };

/**
 * A fresh token of `purpose` and the mail that carries it, as statements for the caller's batch and the queue
 * messages to send after it. The mail's bodies hold a placeholder; the token travels sealed for the consumer.
 * `unlessLiveSince` (reset mail): see issueAccountToken; the mail's row is written only if the token was.
 */
export async function accountMailPlan(
  db: Db,
  env: Env,
  user: Recipient,
  purpose: AccountTokenPurpose,
  now: number,
  options: { unlessLiveSince?: number } = {},
): Promise<WritePlan & { outboxId: string | undefined }> {
  const { issued, statements, issuedGuard } = await issueAccountToken(db, user, purpose, now, options);
  const mail = mailStatements(
    db,
    env,
    [{ email: user.email, name: user.username }],
    { kind: ACCOUNT_MAILS[purpose].kind, link: accountLink(env, purpose, WITHHELD), expiresAt: issued.expiresAt },
    { type: "user", id: user.id },
    now,
    {
      sealedToken: await sealToken(env, issued.token),
      guard: options.unlessLiveSince === undefined ? undefined : issuedGuard,
    },
  );
  return {
    statements: [...statements, ...mail.statements],
    queueMessages: mail.queueMessages,
    outboxId: mail.queueMessages[0]?.body.id,
  };
}

/**
 * The signed-in owner's "send the verification mail again": 409 once verified; counted on the owner's own budget
 * (nobody else's requests count on it), then a new token (the earlier one stops working) and its mail.
 */
export async function resendVerificationMail(
  env: Env,
  db: Db,
  user: Recipient & { emailVerifiedAt: number | null },
  now: number,
): Promise<void> {
  if (user.emailVerifiedAt !== null) throw new ApiError("conflict", "The email address is already verified.");
  await takeAttempt(db, [limits.resend(env, user.id)], now, "Too many verification mails asked for");
  const plan = await accountMailPlan(db, env, user, "verify_email", now);
  const [first, ...rest] = plan.statements;
  await db.batch([first!, ...rest]);
  await sendQueued(env, plan.queueMessages);
}

/** The mail queue message that asks for a reset mail; the consumer does the rest. */
export type PasswordResetRequest = { type: "password-reset"; email: string };

export function isPasswordResetRequest(body: unknown): body is PasswordResetRequest {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { type?: unknown }).type === "password-reset" &&
    typeof (body as { email?: unknown }).email === "string"
  );
}

/**
 * The request path of "forgot password": the client's attempt counted (FORGOT_PER_CLIENT, 429 past it), then one
 * queue message, whatever the address. Nothing here reads or writes anything that depends on whether the address
 * has an account, so no status, header, row or timing can tell.
 */
export async function requestPasswordReset(
  env: Env,
  db: Db,
  email: string,
  client: string,
  now: number,
): Promise<void> {
  await takeAttempt(db, [limits.forgot(client)], now, "Too many password-reset requests");
  const body: PasswordResetRequest = { type: "password-reset", email };
  await env.MAIL_QUEUE.send(body, { contentType: "json" });
}

/**
 * The mail consumer's half of "forgot password": the live account with that address (if any) gets a reset mail,
 * unless its newest one still works and is recent (see the module comment). Two round trips: the account, then one
 * batch whose token INSERT decides atomically, so a redelivered or concurrent request mails nothing twice.
 * Returns the outbox id of the mail written, or null.
 */
export async function mailPasswordReset(env: Env, email: string, now: number): Promise<string | null> {
  const db = getDb(env.DB);
  const [user] = await db
    .select({ id: users.id, email: users.email, username: users.username })
    .from(users)
    .where(and(eq(users.email, email.trim().toLowerCase()), isNull(users.deletedAt)))
    .limit(1);
  if (!user) return null;
  const plan = await accountMailPlan(db, env, user, "password_reset", now, {
    unlessLiveSince: now - resetSpacingMs(env),
  });
  const [first, ...rest] = plan.statements;
  const results = await db.batch([first!, ...rest]);
  if ((results[0] as D1Result).meta.changes !== 1) {
    log("info", "reset mail not sent: the newest one still works", { user_id: user.id });
    return null;
  }
  await sendQueued(env, plan.queueMessages);
  return plan.outboxId ?? null;
}
