import { sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type Db, getDb } from "../db/client";
import { notifications, outbox, users } from "../db/schema";
import { renderMail, renderNotification } from "./templates";

export type Recipient = { email: string; name?: string | null };
/** What a mail is about, e.g. { type: "task", id } or { type: "product", id: sku }. */
export type Entity = { type: string; id: string };
export type MailMessage =
  | { kind: "task.expiring"; task: { id: string; title: string; expiresAt: number } }
  | { kind: "task.expired"; task: { id: string; title: string; expiresAt: number } }
  | {
      kind: "product.changed";
      action: "create" | "update" | "delete";
      actor: { id: string; username: string };
      product: { sku: string; name: string; brand: string; price: string };
      changes: Record<string, { from: unknown; to: unknown }>;
    }
  | { kind: "account.verify-email"; token: string; link: string; expiresAt: number }
  | { kind: "account.password-reset"; token: string; link: string; expiresAt: number };
export type MailKind = MailMessage["kind"];
export const MAIL_KINDS = [
  "task.expiring",
  "task.expired",
  "product.changed",
  "account.verify-email",
  "account.password-reset",
] as const satisfies readonly MailKind[];

/** The only mail that may go to an address its account has not verified: the mails that verify or recover it. */
export const UNVERIFIED_ALLOWED_KINDS: readonly MailKind[] = ["account.verify-email", "account.password-reset"];

/** What an outbox row would be written as without the unverified-address rule (a budget may already suppress it). */
export type OutboxDecision = { status: "queued" | "suppressed"; suppressedReason: string | null };

/**
 * Unverified recipients (the one place this is decided): any other mail to an address that belongs to a live account
 * whose email is not verified is recorded as `suppressed` with reason `recipient_unverified` (the in-app
 * notification, if any, is still written; the consumer acknowledges a suppressed row without sending). Decided in the
 * INSERT itself, so it holds for every caller and reads the account as it is when the mail is written. Otherwise the
 * row keeps the `base` decision.
 */
export function unverifiedRecipient(email: string, kind: MailKind, base: OutboxDecision) {
  if (UNVERIFIED_ALLOWED_KINDS.includes(kind)) return base;
  const unverified = sql`EXISTS (SELECT 1 FROM ${users} WHERE ${users.email} = ${email.toLowerCase()} AND ${users.deletedAt} IS NULL AND ${users.emailVerifiedAt} IS NULL)`;
  return {
    status: sql`CASE WHEN ${unverified} THEN 'suppressed' ELSE ${base.status} END`,
    suppressedReason: sql`CASE WHEN ${unverified} THEN 'recipient_unverified' ELSE ${base.suppressedReason} END`,
  };
}

/** The body of a message on the `mail` queue: the outbox row id. The consumer reads everything else from D1. */
export type MailQueueBody = { id: string };
export type Prepared = { statements: BatchItem<"sqlite">[]; queueMessages: MessageSendRequest<MailQueueBody>[] };

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
  _env: Env,
  recipients: Recipient[],
  message: MailMessage,
  entity?: Entity,
  now: number = Date.now(),
): Prepared {
  const rendered = renderMail(message);
  const about = entityOf(message, entity);
  const seen = new Set<string>();
  const prepared: Prepared = { statements: [], queueMessages: [] };
  for (const recipient of recipients) {
    const email = recipient.email.trim();
    const key = email.toLowerCase();
    if (!email || seen.has(key)) continue;
    seen.add(key);
    const id = crypto.randomUUID();
    // One statement per row keeps every statement far below D1's 100 bound parameters.
    prepared.statements.push(
      db.insert(outbox).values({
        id,
        recipientEmail: email,
        recipientName: recipient.name ?? null,
        subject: rendered.subject,
        textBody: rendered.text,
        htmlBody: rendered.html,
        kind: message.kind,
        entityType: about.type,
        entityId: about.id,
        attempts: 0,
        createdAt: now,
        updatedAt: now,
        ...unverifiedRecipient(email, message.kind, { status: "queued", suppressedReason: null }),
      }),
    );
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
): Prepared {
  const about = entityOf(message, entity);
  const { title, body } = renderNotification(message);
  const { kind, ...payload } = message;
  const mail = mailStatements(db, env, [{ email: user.email, name: user.username }], message, about, now);
  return {
    statements: [
      db.insert(notifications).values({
        id: crypto.randomUUID(),
        userId: user.id,
        kind,
        title,
        body,
        entityType: about.type,
        entityId: about.id,
        payload,
        createdAt: now,
      }),
      ...mail.statements,
    ],
    queueMessages: mail.queueMessages,
  };
}

/**
 * After the caller's batch committed: MAIL_QUEUE.sendBatch in chunks of at most 100 messages. Sending only after the
 * commit means a message never points at a row that does not exist; a row whose send failed stays `queued`.
 */
export async function sendQueued(env: Env, queueMessages: Prepared["queueMessages"]): Promise<void> {
  for (let i = 0; i < queueMessages.length; i += SEND_BATCH_MAX) {
    await env.MAIL_QUEUE.sendBatch(queueMessages.slice(i, i + SEND_BATCH_MAX));
  }
}

async function run(env: Env, prepared: Prepared): Promise<void> {
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
): Promise<string[]> {
  const prepared = mailStatements(getDb(env.DB), env, recipients, message, entity);
  await run(env, prepared);
  return prepared.queueMessages.map((m) => m.body.id);
}

/** Writes the user's in-app notification and queues its mail in one step. */
export async function notify(
  env: Env,
  user: { id: string; email: string; username: string },
  message: MailMessage,
  entity?: Entity,
): Promise<void> {
  await run(env, notificationStatements(getDb(env.DB), env, user, message, entity));
}
