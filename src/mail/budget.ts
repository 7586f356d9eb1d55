import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { insertSelect } from "../db/insert-select";
import { outbox } from "../db/schema";
import { type SettingsSource, settings } from "../lib/settings";
import type { OutboxDecision } from "./types";

/**
 * Mail budgets: at most MAIL_MAX_PER_RECIPIENT_HOUR notice mails an hour to one address and MAIL_MAX_PER_ACTOR_HOUR
 * caused by one user's actions. A mail over budget is still recorded in the outbox, as `suppressed` with the reason
 * (`recipient_budget` or `actor_budget`), and is never sent or retried; the in-app notification it belongs to is
 * written as usual.
 *
 * The decision is made by the INSERT itself: its status is computed in SQL from a count of the last hour's
 * unsuppressed rows for that address and that actor. D1 runs one statement at a time and a db.batch() as one
 * transaction, so racing writers (or the 100 inserts of one batch) each count every row committed before them and
 * can never overshoot. The counts read the partial indexes outbox_budget_recipient_idx / outbox_budget_actor_idx.
 *
 * Only the notice kinds below are budgeted (and counted): verification and password-reset mail has limits of its own
 * (src/auth/account-mail.ts) and must never be blocked by notices an attacker caused.
 */
export const BUDGET_WINDOW_MS = 60 * 60 * 1000;
export const BUDGETED_KINDS = ["task.expiring", "task.expired", "product.changed"] as const;
export type SuppressedReason = "recipient_budget" | "actor_budget";

export function isBudgeted(kind: string): boolean {
  return (BUDGETED_KINDS as readonly string[]).includes(kind);
}

export type OutboxValues = Omit<
  typeof outbox.$inferInsert,
  "status" | "suppressedReason" | "attempts" | "lastError" | "sentAt"
>;

const kinds = sql.join(
  BUDGETED_KINDS.map((kind) => sql.raw(`'${kind}'`)),
  sql`, `,
);

/**
 * The outbox INSERT of one budgeted mail, `queued` or `suppressed` as the budgets decide at the moment it runs.
 * `guard`, when given, is a condition the row is inserted under at all (the expiry notice's "still due").
 */
export function budgetedOutboxInsert(
  db: Db,
  env: SettingsSource,
  values: OutboxValues,
  now: number,
  guard?: SQL,
  /** Further rules over the budgets' verdict (the unverified-address rule), applied in the same INSERT. */
  decide: (budgeted: OutboxDecision) => OutboxDecision = (budgeted) => budgeted,
) {
  const since = now - BUDGET_WINDOW_MS;
  const actorId = values.actorId ?? null;
  // The WHERE of each count repeats its partial index's predicate literally.
  const toRecipient = sql`(SELECT count(*) FROM outbox
      WHERE lower(recipient_email) = lower(${values.recipientEmail}) AND created_at > ${since}
        AND status <> 'suppressed' AND kind IN (${kinds}))`;
  const byActor =
    actorId === null
      ? sql`0`
      : sql`(SELECT count(*) FROM outbox
      WHERE actor_id = ${actorId} AND created_at > ${since}
        AND status <> 'suppressed' AND actor_id IS NOT NULL AND kind IN (${kinds}))`;
  const createdAt = values.createdAt ?? now;
  const { mailMaxPerRecipientHour, mailMaxPerActorHour } = settings(env);
  const over = {
    recipient: sql`r.n >= ${mailMaxPerRecipientHour}`,
    actor: sql`a.n >= ${mailMaxPerActorHour}`,
  };
  return insertSelect(
    db,
    outbox,
    {
      ...values,
      actorId,
      ...decide({
        status: sql`CASE WHEN ${over.recipient} OR ${over.actor} THEN 'suppressed' ELSE 'queued' END`,
        suppressedReason: sql`CASE WHEN ${over.recipient} THEN 'recipient_budget' WHEN ${over.actor} THEN 'actor_budget' END`,
      }),
      attempts: 0,
      createdAt,
      updatedAt: values.updatedAt ?? createdAt,
    },
    { from: sql`(SELECT ${toRecipient} AS n) AS r, (SELECT ${byActor} AS n) AS a`, where: guard },
  );
}
