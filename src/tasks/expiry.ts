import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client";
import { notifications, type TaskStatus, tasks } from "../db/schema";
import type { WritePlan } from "../db/write-plan";
import { type SettingsSource, settings } from "../lib/settings";
import { type MailMessage, notificationStatements } from "../mail/enqueue";

/**
 * The task expiry rule, shared by the task routes (a write) and the every-minute scan (src/cron/expire-tasks.ts).
 *
 * A task is waiting for a notice when it is not done, has an `expires_at`, and `notified_for` is not that
 * `expires_at`. A notice (the in-app notification and its mail) is written exactly once per expiry, however many
 * writers race, because every notice is conditional on what the database holds when its batch runs, not on what the
 * writer read before:
 *   1. the notification and outbox INSERTs are `INSERT … SELECT … WHERE <still waiting for this expiry>`, and
 *   2. the arm, `UPDATE tasks SET notified_for = expires_at WHERE <the same> RETURNING id`, follows them in the same
 *      db.batch() (one transaction; D1 runs batches one at a time).
 * Of twenty PATCHes setting the same past `expires_at`, the first batch inserts and arms; every later one finds the
 * task already armed, inserts nothing and gets no row back from the arm, so it queues no mail either. The scan works
 * the same way, so two scans, or a scan and a write, can never notice one expiry twice.
 *
 * Moving `expires_at` re-arms (notified_for = null) unless the stored value already is the new one, so a racing
 * writer of the same value cannot re-arm what the first one noticed. Deleting the task or marking it done cancels.
 */

export type ExpiryTask = { id: string; title: string; expiresAt: number };
export type Creator = { id: string; email: string; username: string; deletedAt: number | null };

export function noticeWindowMs(env: SettingsSource): number {
  return settings(env).expiryNoticeMinutes * 60_000;
}

/** "expired at" once the time has come, "expires at" before. */
export function expiryMessage(task: ExpiryTask, now: number): MailMessage {
  return { kind: task.expiresAt <= now ? "task.expired" : "task.expiring", task };
}

/** The waiting predicate, literally that of the partial index tasks_expiry_due_idx (a bound 'done' would not match). */
export const WAITING = sql`status <> 'done' AND expires_at IS NOT NULL AND notified_for IS NOT expires_at`;

/** True while the task still has `expiresAt` and is waiting for its notice: the condition every notice row needs. */
export function stillWaiting(taskId: string, expiresAt: number): SQL {
  return sql`EXISTS (SELECT 1 FROM tasks WHERE id = ${taskId} AND expires_at = ${expiresAt} AND ${WAITING})`;
}

/**
 * Marks these (id, expires_at) pairs noticed where they are still waiting; RETURNING says which ones this batch
 * armed. At most 49 pairs (2 bound parameters each).
 */
export function armStatement(db: Db, pairs: { id: string; expiresAt: number }[]) {
  const values = sql.join(
    pairs.map((pair) => sql`(${pair.id}, ${pair.expiresAt})`),
    sql`, `,
  );
  return db
    .update(tasks)
    .set({ notifiedFor: sql`${tasks.expiresAt}` })
    .where(sql`(${tasks.id}, ${tasks.expiresAt}) IN (VALUES ${values}) AND ${WAITING}`)
    .returning({ id: tasks.id });
}

const DAY_MS = 86_400_000;

/**
 * The notice budget: a user gets at most NOTICES_MAX_PER_USER_DAY notices in any 24 hours. Past it, this statement
 * arms the task as if noticed, so the guarded notice after it finds the task no longer waiting and writes nothing
 * (neither notification nor outbox row), and the arm at the end of the batch returns nothing, so no mail is queued.
 * `RETURNING id` says the task was passed over. Every notice a user gets is about one of their own tasks, whose
 * expiry only they or an admin may move (another member can at most get one expiry noticed once, by reopening a
 * task), so this bounds the notifications and notice mails one account can make, however fast it creates tasks or
 * moves their expiry. It reads at most the budget's number of entries of the user's index.
 */
export function overBudgetStatement(db: Db, env: SettingsSource, task: ExpiryTask, userId: string, now: number) {
  const max = settings(env).noticesMaxPerUserDay;
  const spent = sql`(SELECT count(*) FROM (SELECT 1 FROM ${notifications} WHERE ${notifications.userId} = ${userId} AND ${notifications.createdAt} > ${now - DAY_MS} LIMIT ${max})) >= ${max}`;
  return db
    .update(tasks)
    .set({ notifiedFor: sql`${tasks.expiresAt}` })
    .where(sql`${tasks.id} = ${task.id} AND ${tasks.expiresAt} = ${task.expiresAt} AND ${WAITING} AND ${spent}`)
    .returning({ id: tasks.id });
}

/**
 * The guarded notice for one task (notification + outbox row, written only while the task still waits for this
 * expiry), preceded by the budget check (overBudgetStatement, always the first statement); nothing for a deleted
 * creator, whose task is armed without a notice. `actorId`: whose write caused it (null for the scan).
 */
export function noticeStatements(
  db: Db,
  env: Env,
  task: ExpiryTask,
  creator: Creator,
  now: number,
  actorId: string | null,
): WritePlan {
  if (creator.deletedAt !== null) return { statements: [], queueMessages: [] };
  const notice = notificationStatements(
    db,
    env,
    creator,
    expiryMessage(task, now),
    { type: "task", id: task.id },
    now,
    {
      actorId,
      guard: stillWaiting(task.id, task.expiresAt),
    },
  );
  return {
    statements: [overBudgetStatement(db, env, task, creator.id, now), ...notice.statements],
    queueMessages: notice.queueMessages,
  };
}

/**
 * What a create or update means for the notice:
 *  - `notifiedFor`: the value (an SQL expression) to store with a write that sets `expires_at`, or undefined when
 *    `expires_at` is unchanged (keep it).
 *  - `statements`: to run after the task's own INSERT/UPDATE in the same batch: for a new `expires_at` already past
 *    on a task not done, the guarded notice and then the arm (the last statement).
 *  - `queueMessages`: to send only if the arm returned the task (see `armedMail`).
 */
export type ExpiryPlan = WritePlan & { notifiedFor: SQL | null | undefined };

export function expiryOnWrite(
  db: Db,
  env: Env,
  input: {
    task: { id: string; title: string; status: TaskStatus; expiresAt: number | null };
    /** undefined for a create. */
    previousExpiresAt: number | null | undefined;
    creator: Creator;
    /** Who is writing: counted by the mail budget per actor. */
    actorId: string;
    now: number;
  },
): ExpiryPlan {
  const { task, previousExpiresAt, creator, now, actorId } = input;
  const created = previousExpiresAt === undefined;
  if (!created && task.expiresAt === previousExpiresAt) {
    return { notifiedFor: undefined, statements: [], queueMessages: [] };
  }
  // Re-arm, unless a concurrent write has already stored this very value (it owns that expiry's notice).
  const notifiedFor = created
    ? null
    : sql`CASE WHEN ${tasks.expiresAt} IS ${task.expiresAt} THEN ${tasks.notifiedFor} ELSE NULL END`;
  if (task.expiresAt === null || task.expiresAt > now || task.status === "done") {
    return { notifiedFor, statements: [], queueMessages: [] };
  }
  const expiry = { id: task.id, title: task.title, expiresAt: task.expiresAt };
  const notice = noticeStatements(db, env, expiry, creator, now, actorId);
  return {
    notifiedFor,
    statements: [...notice.statements, armStatement(db, [expiry])],
    queueMessages: notice.queueMessages,
  };
}

/**
 * Runs after a batch made of parts, each ending (when it has mail) with an arm statement: the queue messages of
 * the parts whose arm returned a row, i.e. whose notice this batch actually wrote.
 */
export function armedMail(parts: WritePlan[], results: unknown[]): WritePlan["queueMessages"] {
  const messages: WritePlan["queueMessages"] = [];
  let offset = 0;
  for (const part of parts) {
    offset += part.statements.length;
    if (part.queueMessages.length === 0) continue;
    const armed = results[offset - 1];
    if (Array.isArray(armed) && armed.length > 0) messages.push(...part.queueMessages);
  }
  return messages;
}
