import { type SQL, sql } from "drizzle-orm";
import { type Db, getDb } from "../db/client";
import { insertSelect } from "../db/insert-select";
import { notifications, outbox, users } from "../db/schema";
import type { WritePlan } from "../db/write-plan";
import { toIso } from "../lib/time";
import { budgetedOutboxInsert, isBudgeted } from "./budget";
import { renderMail, renderNotification } from "./templates";
import type { Entity, MailKind, MailMessage, OutboxDecision, Recipient } from "./types";

export type { Entity, MailKind, MailMessage, OutboxDecision, Recipient } from "./types";
export const MAIL_KINDS = [
  "task.expiring",
  "task.expired",
  "product.changed",
  "account.verify-email",
  "account.password-reset",
] as const satisfies readonly MailKind[];

/** The only mail that may go to an address its account has not verified: the mails that verify or recover it. */
export const UNVERIFIED_ALLOWED_KINDS: readonly MailKind[] = ["account.verify-email", "account.password-reset"];

/**
 * Unverified recipients (the one place this is decided): any other mail to an address that belongs to a live account
 * whose email is not verified is recorded as `suppressed` with reason `recipient_unverified` (the in-app
 * notification, if any, is still written; the consumer acknowledges a suppressed row without sending). Decided in the
 * INSERT itself, so it holds for every caller and reads the account as it is when the mail is written. Otherwise the
 * row keeps the `base` decision (queued, or the budgets' verdict), so the two rules compose.
 */
export function unverifiedRecipient(email: string, kind: MailKind, base: OutboxDecision): OutboxDecision {
  if (UNVERIFIED_ALLOWED_KINDS.includes(kind)) return base;
  const unverified = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.email} = ${email.toLowerCase()} AND ${users.deletedAt} IS NULL AND ${users.emailVerifiedAt} IS NULL)`;
  return {
    status: sql`CASE WHEN ${unverified} THEN 'suppressed' ELSE ${base.status} END`,
    suppressedReason: sql`CASE WHEN ${unverified} THEN 'recipient_unverified' ELSE ${base.suppressedReason} END`,
  };
}

/**
 * Who caused a mail and under what condition it is written at all:
 *  - `actorId`: the user whose request caused it, counted by the per-actor budget; null (the default) for system
 *    mail such as the cron's.
 *  - `guard`: an SQL condition evaluated when the batch runs; the notification and outbox rows are inserted only
 *    while it holds (the expiry notice's "this task is still waiting for this notice").
 */
export type MailOptions = {
  actorId?: string | null;
  guard?: SQL;
  /** An account mail's token, sealed for the consumer (src/mail/seal.ts); the bodies hold its placeholder. */
  sealedToken?: string;
};

/** Queues.sendBatch takes at most 100 messages per call. */
export const SEND_BATCH_MAX = 100;

function entityOf(message: MailMessage, entity?: Entity): Entity {
  if (entity) return entity;
  if (message.kind === "product.changed") return { type: "product", id: message.product.sku };
  if (message.kind === "task.expiring" || message.kind === "task.expired") return { type: "task", id: message.task.id };
  throw new Error(`mail of kind ${message.kind} needs its entity`);
}

/**
 * Outbox rows (one per distinct recipient address, rendered with the templates) as drizzle queries for the caller's
 * own db.batch(), plus the queue messages to send once that batch has committed. Rendering happens here, once, so
 * the consumer sends exactly what was recorded and a template change never alters a mail already queued.
 */
export function mailStatements(
  db: Db,
  env: Env,
  recipients: Recipient[],
  message: MailMessage,
  entity?: Entity,
  now: number = Date.now(),
  options: MailOptions = {},
): WritePlan {
  const rendered = renderMail(message);
  const about = entityOf(message, entity);
  const budgeted = isBudgeted(message.kind);
  const seen = new Set<string>();
  const prepared: WritePlan = { statements: [], queueMessages: [] };
  for (const recipient of recipients) {
    const email = recipient.email.trim();
    const key = email.toLowerCase();
    if (!email || seen.has(key)) continue;
    seen.add(key);
    const id = crypto.randomUUID();
    const values = {
      id,
      recipientEmail: email,
      recipientName: recipient.name ?? null,
      subject: rendered.subject,
      textBody: rendered.text,
      htmlBody: rendered.html,
      kind: message.kind,
      entityType: about.type,
      entityId: about.id,
      actorId: options.actorId ?? null,
      sealedToken: options.sealedToken ?? null,
      createdAt: now,
      updatedAt: now,
    };
    // One statement per row keeps every statement far below D1's 100 bound parameters. A budgeted kind gets its
    // status (queued or suppressed) from the budgets inside the INSERT; a suppressed row's queue message is acked
    // by the consumer without a send.
    if (budgeted) {
      prepared.statements.push(
        budgetedOutboxInsert(db, env, values, now, options.guard, (base) =>
          unverifiedRecipient(email, message.kind, base),
        ),
      );
    } else {
      const decision = unverifiedRecipient(email, message.kind, { status: "queued", suppressedReason: null });
      const row = { ...values, ...decision, attempts: 0 };
      prepared.statements.push(
        options.guard
          ? insertSelect(db, outbox, row, { where: options.guard })
          : db.insert(outbox).values(row as typeof outbox.$inferInsert),
      );
    }
    prepared.queueMessages.push({ body: { id }, contentType: "json" });
  }
  return prepared;
}

/** A notification row for the user plus the outbox row of its mail, for the caller's own db.batch(). */
export function notificationStatements(
  db: Db,
  env: Env,
  user: { id: string; email: string; username: string },
  message: MailMessage,
  entity?: Entity,
  now: number = Date.now(),
  options: MailOptions = {},
): WritePlan {
  const about = entityOf(message, entity);
  const { title, body } = renderNotification(message);
  const payload = notificationPayload(message);
  const mail = mailStatements(db, env, [{ email: user.email, name: user.username }], message, about, now, options);
  const id = crypto.randomUUID();
  const row = {
    id,
    userId: user.id,
    kind: message.kind,
    title,
    body,
    entityType: about.type,
    entityId: about.id,
    payload,
    createdAt: now,
  };
  const insert = options.guard
    ? insertSelect(db, notifications, row, { where: options.guard })
    : db.insert(notifications).values(row);
  return { statements: [insert, ...mail.statements], queueMessages: mail.queueMessages };
}

/** The notification's `payload`: what it was made from, with snake_case keys and ISO 8601 times like every body. */
export function notificationPayload(message: MailMessage): Record<string, unknown> {
  switch (message.kind) {
    case "task.expiring":
    case "task.expired":
      return {
        task: { id: message.task.id, title: message.task.title, expires_at: toIso(message.task.expiresAt) },
      };
    case "product.changed": {
      const { kind: _kind, ...rest } = message;
      return rest;
    }
    case "account.verify-email":
    case "account.password-reset":
      // Account mails are never in-app notifications: a payload would keep a live token.
      return {};
  }
}

/**
 * After the caller's batch committed: MAIL_QUEUE.sendBatch in chunks of at most 100 messages. Sending only after the
 * commit means a message never points at a row that does not exist; a row whose send failed stays `queued`.
 */
export async function sendQueued(env: Env, queueMessages: WritePlan["queueMessages"]): Promise<void> {
  for (let i = 0; i < queueMessages.length; i += SEND_BATCH_MAX) {
    await env.MAIL_QUEUE.sendBatch(queueMessages.slice(i, i + SEND_BATCH_MAX));
  }
}

async function run(env: Env, prepared: WritePlan): Promise<void> {
  const [first, ...rest] = prepared.statements;
  if (!first) return;
  await getDb(env.DB).batch([first, ...rest]);
  await sendQueued(env, prepared.queueMessages);
}

/** Convenience: prepare, db.batch, send. Returns the outbox ids. */
export async function enqueueMail(
  env: Env,
  recipients: Recipient[],
  message: MailMessage,
  entity?: Entity,
  options: MailOptions = {},
): Promise<string[]> {
  const prepared = mailStatements(getDb(env.DB), env, recipients, message, entity, Date.now(), options);
  await run(env, prepared);
  return prepared.queueMessages.map((m) => m.body.id);
}

/** Writes the user's in-app notification and queues its mail in one step. */
export async function notify(
  env: Env,
  user: { id: string; email: string; username: string },
  message: MailMessage,
  entity?: Entity,
  options: MailOptions = {},
): Promise<void> {
  await run(env, notificationStatements(getDb(env.DB), env, user, message, entity, Date.now(), options));
}
