import { and, eq, inArray, lt, or, sql } from "drizzle-orm";
import { isPasswordResetRequest, mailPasswordReset } from "../auth/account-mail";
import { getDb } from "../db/client";
import { outbox } from "../db/schema";
import type { MailQueueBody } from "../db/write-plan";
import { errorFields, log } from "../lib/log";
import { settings } from "../lib/settings";
import { mailerFromEnv, senderFromEnv } from "../mail/mailchannels";
import type { Mailer, SendResult } from "../mail/mailer";
import { openToken, unseal } from "../mail/seal";
import { backoffSeconds } from "./backoff";

/**
 * Mirrors `max_retries` of the `mail` consumer in wrangler.toml (a test keeps them equal). A message is delivered at
 * most MAIL_MAX_RETRIES + 1 times; when the last delivery calls retry(), the platform moves it to `mail-dlq`.
 */
export const MAIL_MAX_RETRIES = 5;

/** Rows in these states wait for a send; any other state is done with, and a redelivery for it is acknowledged. */
const PENDING = ["queued", "retrying"] as const;

/**
 * A claimed row is `sending` for at most this long: longer than any send (the MailChannels call times out after
 * 10 s), so a live claim is never taken over, and a claim left by a consumer that died mid-send expires.
 */
export const SEND_LEASE_MS = 60_000;
/** When another delivery holds the row, this copy comes back after the lease rather than being dropped. */
const LEASE_RETRY_SECONDS = Math.ceil(SEND_LEASE_MS / 1000);

/** Pending, or `sending` under a lease that has run out. */
function claimable(at: number) {
  return or(
    inArray(outbox.status, PENDING),
    and(eq(outbox.status, "sending"), lt(outbox.updatedAt, at - SEND_LEASE_MS)),
  );
}

export type MailOutcome =
  | "sent"
  | "recorded"
  | "failed"
  | "retrying"
  | "dead-lettering"
  | "suppressed"
  | "skipped"
  | "reset-requested";

/** A row that is done with keeps no sealed token (src/mail/seal.ts). */
const DONE = { sealedToken: null };

function outboxId(body: unknown): string | null {
  const id = typeof body === "object" && body !== null ? (body as Partial<MailQueueBody>).id : undefined;
  return typeof id === "string" && id.length > 0 && id.length <= 64 ? id : null;
}

/** The delivery is the last the platform will make: retrying it now dead-letters it. */
export function isFinalAttempt(attempts: number, maxRetries = MAIL_MAX_RETRIES): boolean {
  return attempts > maxRetries;
}

/** Delay before the next try: exponential in the delivery count, never sooner than the provider's Retry-After. */
export function retryDelay(attempts: number, result?: SendResult): number {
  const base = backoffSeconds(attempts);
  const hint = result?.outcome === "retry" ? (result.retryAfterSeconds ?? 0) : 0;
  return Math.min(Math.max(base, hint), 12 * 60 * 60);
}

/**
 * One message of the `mail` queue: the outbox row it names is sent once.
 *
 * Idempotency: the row's status is the processed-message key. A row that is already sent, recorded or failed is
 * acknowledged without sending. Before sending, the consumer claims the row: one UPDATE moves it to `sending` (with
 * a lease, see SEND_LEASE_MS) only if it is still pending, so of two deliveries of the same message running at once
 * (at-least-once delivery, max_concurrency 2) exactly one sends. The other is retried after the lease rather than
 * acknowledged, so the mail still goes out if the sender dies mid-send. The one gap no queue can close: a crash
 * after MailChannels accepted the mail but before the row says `sent` sends it again once the lease runs out.
 */
export async function processMailMessage(
  message: Message<unknown>,
  env: Env,
  mailer: Mailer | null,
  now: () => number = Date.now,
): Promise<MailOutcome> {
  if (isPasswordResetRequest(message.body)) {
    // A forgot-password request, answered off the request path: the lookup and the mail happen here.
    await mailPasswordReset(env, message.body.email, now());
    message.ack();
    return "reset-requested";
  }
  const id = outboxId(message.body);
  if (!id) {
    log("warn", "mail message without an outbox id acknowledged", { message_id: message.id });
    message.ack();
    return "skipped";
  }
  const db = getDb(env.DB);
  const [row] = await db.select().from(outbox).where(eq(outbox.id, id)).limit(1);
  if (!row) {
    log("warn", "mail message for a missing outbox row acknowledged", { outbox_id: id, message_id: message.id });
    message.ack();
    return "skipped";
  }
  if (row.status === "suppressed") {
    // Over a mail budget (or to an unverified address): recorded, never sent, never retried.
    message.ack();
    return "suppressed";
  }
  if (row.status !== "sending" && !(PENDING as readonly string[]).includes(row.status)) {
    log("info", "mail already handled; redelivery acknowledged", { outbox_id: id, status: row.status });
    message.ack();
    return "skipped";
  }

  const claimedAt = now();
  const claimed = await db
    .update(outbox)
    .set({ status: "sending", attempts: sql`${outbox.attempts} + 1`, updatedAt: claimedAt })
    .where(and(eq(outbox.id, id), claimable(claimedAt)))
    .returning({ attempts: outbox.attempts });
  if (claimed.length === 0) {
    // Another delivery holds the row (or has just finished it): come back after its lease. If it finished, that
    // later delivery finds the row done and is acknowledged; if it died mid-send, the later delivery sends.
    log("info", "mail claimed by a concurrent delivery; this copy retried after the lease", { outbox_id: id });
    message.retry({ delaySeconds: LEASE_RETRY_SECONDS });
    return "skipped";
  }
  const attempt = claimed[0]!.attempts;

  // An account mail's token goes into the bodies only now, on its way out.
  let bodies = { text: row.textBody, html: row.htmlBody };
  if (row.sealedToken !== null) {
    const token = await openToken(env, row.sealedToken);
    if (token === null) {
      const error = "the sealed account token cannot be opened (JWT_SECRET changed?); the user asks for a new mail";
      await db
        .update(outbox)
        .set({ status: "failed", lastError: error, updatedAt: now(), ...DONE })
        .where(eq(outbox.id, id));
      log("error", "account mail not sent", { outbox_id: id, kind: row.kind, error });
      message.ack();
      return "failed";
    }
    bodies = unseal(bodies, token);
  }

  if (!mailer) {
    await db
      .update(outbox)
      .set({ status: "recorded", lastError: null, updatedAt: now(), ...DONE })
      .where(eq(outbox.id, id));
    log("info", "mail recorded, not sent: MAILCHANNELS_API_KEY is not set", {
      outbox_id: id,
      kind: row.kind,
      to: row.recipientEmail,
      subject: row.subject,
      // Local runs only: the account link, so a developer can follow it from the terminal. Never in production.
      link:
        row.sealedToken !== null && !settings(env).production
          ? bodies.text.match(/https?:\/\/\S+#token=\S+|\/\S+#token=\S+/)?.[0]
          : undefined,
    });
    message.ack();
    return "recorded";
  }

  const result = await mailer.send({
    to: { email: row.recipientEmail, name: row.recipientName },
    from: senderFromEnv(env),
    subject: row.subject,
    text: bodies.text,
    html: bodies.html,
  });

  const fields = { outbox_id: id, kind: row.kind, attempt, delivery: message.attempts, mailer: mailer.name };
  if (result.outcome === "sent") {
    const at = now();
    await db
      .update(outbox)
      .set({ status: "sent", lastError: null, sentAt: at, updatedAt: at, ...DONE })
      .where(eq(outbox.id, id));
    log("debug", "mail sent", { ...fields, status: result.status });
    message.ack();
    return "sent";
  }
  if (result.outcome === "failed") {
    await db
      .update(outbox)
      .set({ status: "failed", lastError: result.error, updatedAt: now(), ...DONE })
      .where(eq(outbox.id, id));
    log("warn", "mail refused by the provider; not retried", { ...fields, error: result.error });
    message.ack();
    return "failed";
  }

  await db
    .update(outbox)
    .set({ status: "retrying", lastError: result.error, updatedAt: now() })
    .where(eq(outbox.id, id));
  const delaySeconds = retryDelay(message.attempts, result);
  const final = isFinalAttempt(message.attempts);
  log(final ? "error" : "warn", final ? "mail failed on its last delivery; dead-lettering" : "mail will be retried", {
    ...fields,
    error: result.error,
    delay_seconds: final ? undefined : delaySeconds,
  });
  // On the final delivery this retry() is what moves the message to mail-dlq (dead_letter_queue in wrangler.toml).
  message.retry({ delaySeconds });
  return final ? "dead-lettering" : "retrying";
}

/**
 * The `mail` consumer: each message acked or retried on its own; one failing never holds back the others. Logs one
 * line per batch with how many messages ended which way.
 */
export async function handleMailBatch(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx?: ExecutionContext,
  mailer: Mailer | null = mailerFromEnv(env),
): Promise<void> {
  const counts: Partial<Record<MailOutcome | "error", number>> = {};
  const tally = (outcome: MailOutcome | "error") => {
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  };
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        tally(await processMailMessage(message, env, mailer));
      } catch (error) {
        tally("error");
        // D1 unavailable and the like: nothing was decided, so try the whole message again later.
        log("error", "mail message failed in the consumer; retrying", {
          message_id: message.id,
          ...errorFields(error),
        });
        message.retry({ delaySeconds: retryDelay(message.attempts) });
      }
    }),
  );
  log("info", "mail batch", { queue: batch.queue, messages: batch.messages.length, ...counts });
}

/** The `mail-dlq` consumer: a message here exhausted its retries, so its outbox row is marked failed for good. */
export async function handleMailDeadLetters(
  batch: MessageBatch<unknown>,
  env: Env,
  _ctx?: ExecutionContext,
  now: () => number = Date.now,
): Promise<void> {
  const db = getDb(env.DB);
  await Promise.all(
    batch.messages.map(async (message) => {
      if (isPasswordResetRequest(message.body)) {
        // No row to mark: the request found D1 failing six times. The person asks again.
        log("error", "forgot-password request dead-lettered: no reset mail written", { message_id: message.id });
        message.ack();
        return;
      }
      const id = outboxId(message.body);
      if (!id) {
        log("warn", "dead-lettered mail message without an outbox id acknowledged", { message_id: message.id });
        message.ack();
        return;
      }
      try {
        // Only a row still pending (or abandoned mid-send) is failed: one sent or recorded meanwhile keeps its status.
        const updated = await db
          .update(outbox)
          .set({
            status: "failed",
            lastError: sql`coalesce(${outbox.lastError} || '; ', '') || ${`gave up after ${MAIL_MAX_RETRIES + 1} deliveries (dead-lettered)`}`,
            updatedAt: now(),
            ...DONE,
          })
          .where(and(eq(outbox.id, id), claimable(now())))
          .returning({ attempts: outbox.attempts });
        log("error", "mail dead-lettered; outbox row marked failed", {
          outbox_id: id,
          changed: updated.length > 0,
          attempts: updated[0]?.attempts,
        });
        message.ack();
      } catch (error) {
        log("error", "dead-lettered mail could not be marked failed; retrying", {
          outbox_id: id,
          ...errorFields(error),
        });
        message.retry({ delaySeconds: retryDelay(message.attempts) });
      }
    }),
  );
}
