import { and, eq, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type Db, getDb } from "../db/client";
import { tasks, users } from "../db/schema";
import type { WritePlan } from "../db/write-plan";
import { errorFields, log } from "../lib/log";
import { sendQueued } from "../mail/enqueue";
import {
  armStatement,
  type Creator,
  type ExpiryTask,
  expiryMessage,
  noticeStatements,
  noticeWindowMs,
} from "../tasks/expiry";

/**
 * The every-minute expiry scan. It reads the tasks due for a notice (waiting, with an `expires_at` within
 * EXPIRY_NOTICE_MINUTES of now or already past), a chunk at a time, and writes each chunk's notices and arm in one
 * db.batch(). The rule itself (what "waiting" means, guarded notices, re-arming) is task domain code in
 * src/tasks/expiry.ts, shared with the task routes; see there why a notice is never written twice.
 */

/** Tasks per batch: the arm binds 2 parameters a task (<= 100), and the batch stays near 120 statements. */
export const SCAN_CHUNK = 40;
/** Tasks per run; the rest waits a minute. 5,000 / 40 = 125 chunks of one read, one batch and one queue send. */
export const MAX_TASKS_PER_RUN = 5000;

export type ScanResult = {
  /** Notices written (in-app notification + outbox row; the mail budgets decide whether it is sent). */
  noticed: number;
  expiring: number;
  expired: number;
  /** Due tasks armed without a notice: the creator's account is deleted. */
  skipped: number;
  /** Tasks read as due that a concurrent scan or write had noticed (or moved) before this batch ran. */
  lost: number;
  /** Due tasks armed without a notice: their creator had their NOTICES_MAX_PER_USER_DAY in the last 24 hours. */
  overBudget: number;
  batches: number;
  /** True when MAX_TASKS_PER_RUN was reached; the next run continues. */
  more: boolean;
};

type DueTask = ExpiryTask & { creator: Creator };

/** Due tasks with their creators, soonest expiry first; served by the partial index tasks_expiry_due_idx. */
export function dueQuery(db: Db, horizon: number, limit: number) {
  return db
    .select({
      id: tasks.id,
      title: tasks.title,
      expiresAt: tasks.expiresAt,
      userId: users.id,
      email: users.email,
      username: users.username,
      deletedAt: users.deletedAt,
    })
    .from(tasks)
    .innerJoin(users, eq(users.id, tasks.createdBy))
    .where(
      and(
        // Literally the predicate of the partial index tasks_expiry_due_idx (a bound 'done' would not match it).
        sql`status <> 'done' AND expires_at IS NOT NULL AND notified_for IS NOT expires_at`,
        lte(tasks.expiresAt, horizon),
      ),
    )
    .orderBy(tasks.expiresAt, tasks.id)
    .limit(limit);
}

async function selectDue(db: Db, horizon: number, limit: number): Promise<DueTask[]> {
  const rows = await dueQuery(db, horizon, limit);
  return rows.map((row) => ({
    id: row.id,
    title: row.title,
    expiresAt: row.expiresAt!,
    creator: { id: row.userId, email: row.email, username: row.username, deletedAt: row.deletedAt },
  }));
}

/** Guarded notices and the arm of one chunk in one batch; queues the mail of the tasks this batch armed. */
async function noticeChunk(db: Db, env: Env, chunk: DueTask[], now: number, result: ScanResult): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [];
  const mail = new Map<string, WritePlan["queueMessages"]>();
  // Where each task's notice starts: its first statement is the budget check (noticeStatements).
  const budgetAt = new Map<string, number>();
  for (const task of chunk) {
    const notice = noticeStatements(db, env, task, task.creator, now, null);
    if (notice.statements.length > 0) budgetAt.set(task.id, statements.length);
    statements.push(...notice.statements);
    mail.set(task.id, notice.queueMessages);
  }
  statements.push(armStatement(db, chunk));
  const results = await db.batch(statements as [BatchItem<"sqlite">, ...BatchItem<"sqlite">[]]);
  const armed = new Set((results.at(-1) as { id: string }[]).map((row) => row.id));
  result.batches += 1;
  const queueMessages: WritePlan["queueMessages"] = [];
  for (const task of chunk) {
    const at = budgetAt.get(task.id);
    if (at !== undefined && (results[at] as unknown[]).length > 0) {
      result.overBudget += 1;
    } else if (!armed.has(task.id)) {
      result.lost += 1;
    } else if (task.creator.deletedAt !== null) {
      result.skipped += 1;
    } else {
      result.noticed += 1;
      if (expiryMessage(task, now).kind === "task.expired") result.expired += 1;
      else result.expiring += 1;
      queueMessages.push(...(mail.get(task.id) ?? []));
    }
  }
  try {
    await sendQueued(env, queueMessages);
  } catch (error) {
    // The notices are committed; their outbox rows stay `queued` and the requeue sweep sends them.
    log("error", "task expiry notices committed but their mail messages were not queued", {
      tasks: chunk.map((task) => task.id),
      ...errorFields(error),
    });
  }
}

/**
 * The every-minute scan, a function of the database and `now` only: reads due tasks oldest expiry first, a chunk
 * at a time, and notices each chunk in one batch. Safe to run concurrently with itself and with task writes.
 */
export async function scanExpiringTasks(
  env: Env,
  now: Date | number,
  options: { chunkSize?: number; maxTasks?: number } = {},
): Promise<ScanResult> {
  const at = typeof now === "number" ? now : now.getTime();
  const horizon = at + noticeWindowMs(env);
  const chunkSize = Math.max(1, Math.min(options.chunkSize ?? SCAN_CHUNK, SCAN_CHUNK));
  const maxTasks = options.maxTasks ?? MAX_TASKS_PER_RUN;
  const db = getDb(env.DB);
  const result: ScanResult = {
    noticed: 0,
    expiring: 0,
    expired: 0,
    skipped: 0,
    lost: 0,
    overBudget: 0,
    batches: 0,
    more: false,
  };
  for (;;) {
    // Lost tasks count too, so a run is bounded even while another scan keeps winning.
    const remaining = maxTasks - result.noticed - result.skipped - result.lost - result.overBudget;
    if (remaining <= 0) {
      result.more = (await selectDue(db, horizon, 1)).length > 0;
      break;
    }
    const chunk = await selectDue(db, horizon, Math.min(chunkSize, remaining));
    if (chunk.length === 0) break;
    await noticeChunk(db, env, chunk, at, result);
  }
  return result;
}

/**
 * The cron entry for `* * * * *`. Its ScanResult is part of the one "cron job finished" line the scheduled handler
 * logs per run (src/cron/index.ts), so every run says what it noticed, skipped and lost.
 */
export const expireTasksJob = (env: Env, now: Date) => scanExpiringTasks(env, now);
