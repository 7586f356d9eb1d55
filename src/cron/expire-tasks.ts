import { and, eq, lte, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { type Db, getDb } from "../db/client";
import { processedMessages, type TaskStatus, tasks, users } from "../db/schema";
import { intVar } from "../lib/config";
import { errorFields, log } from "../lib/log";
import { type MailMessage, notificationStatements, type Prepared, sendQueued } from "../mail/enqueue";

/**
 * Task expiry notices. A task is due when it is not done, has an `expires_at` within EXPIRY_NOTICE_MINUTES of now
 * (or already past) and `notified_for` is not that `expires_at`. Each notice is written in ONE db.batch() with:
 *   - the claim: `notified_for = expires_at` for exactly the (id, expires_at) pairs that were read, and
 *   - an idempotency key `task-expiry:<id>:<expires_at>` in processed_messages (the same pattern the queue
 *     consumers use). Two scans that read the same due task race on that primary key: the second batch fails as a
 *     whole, writes nothing, and re-reads, by then without the tasks the first one claimed.
 * So a notice is never sent twice for one expiry and never lost between claim and notification. A write that moves
 * `expires_at` clears `notified_for` and the key of the new value (re-arm); `done` tasks are never due (cancel).
 */

export const EXPIRY_KEY_QUEUE = "task-expiry";
export const DEFAULT_NOTICE_MINUTES = 15;
/** Tasks per batch: the claim binds 2 parameters a task (<= 100), and the batch stays near 100 statements. */
export const SCAN_CHUNK = 40;
/** Tasks per run; the rest waits a minute. 5,000 / 40 = 125 chunks of one read, one batch and one queue send. */
export const MAX_TASKS_PER_RUN = 5000;
/** processed_messages rows per INSERT: 3 bound parameters a row, at most 100 a statement. */
const KEYS_PER_INSERT = 33;

export type ExpiryTask = { id: string; title: string; expiresAt: number };
type Creator = { id: string; email: string; username: string; deletedAt: number | null };

export function noticeWindowMs(env: Pick<Env, "EXPIRY_NOTICE_MINUTES">): number {
  return Math.max(0, intVar(env.EXPIRY_NOTICE_MINUTES, DEFAULT_NOTICE_MINUTES)) * 60_000;
}

export function expiryKey(taskId: string, expiresAt: number): string {
  return `${EXPIRY_KEY_QUEUE}:${taskId}:${expiresAt}`;
}

/** "expired at" once the time has come, "expires at" before. */
export function expiryMessage(task: ExpiryTask, now: number): MailMessage {
  return { kind: task.expiresAt <= now ? "task.expired" : "task.expiring", task };
}

/**
 * What a create or update means for the notice. Returns the `notified_for` to store with the write and the
 * statements to put in the same batch. `previousExpiresAt` is undefined for a create.
 *  - expires_at unchanged: nothing (keep notified_for).
 *  - moved: re-arm (notified_for = null, forget the key of the new value so the scan may claim it again).
 *  - moved to a time already past and not done: notice "expired" now, in this batch, and mark it sent.
 */
export function expiryOnWrite(
  db: Db,
  env: Env,
  input: {
    task: { id: string; title: string; status: TaskStatus; expiresAt: number | null; notifiedFor: number | null };
    previousExpiresAt: number | null | undefined;
    creator: Creator;
    now: number;
  },
): { notifiedFor: number | null; statements: BatchItem<"sqlite">[]; queueMessages: Prepared["queueMessages"] } {
  const { task, previousExpiresAt, creator, now } = input;
  const created = previousExpiresAt === undefined;
  if (!created && task.expiresAt === previousExpiresAt) {
    return { notifiedFor: task.notifiedFor, statements: [], queueMessages: [] };
  }
  const statements: BatchItem<"sqlite">[] = [];
  if (!created && task.expiresAt !== null) {
    statements.push(db.delete(processedMessages).where(eq(processedMessages.id, expiryKey(task.id, task.expiresAt))));
  }
  if (task.expiresAt === null || task.expiresAt > now || task.status === "done") {
    return { notifiedFor: null, statements, queueMessages: [] };
  }
  if (creator.deletedAt !== null) return { notifiedFor: task.expiresAt, statements, queueMessages: [] };
  const notice = notificationStatements(
    db,
    env,
    creator,
    expiryMessage({ id: task.id, title: task.title, expiresAt: task.expiresAt }, now),
    { type: "task", id: task.id },
    now,
  );
  return {
    notifiedFor: task.expiresAt,
    statements: [...statements, ...notice.statements],
    queueMessages: notice.queueMessages,
  };
}

export type ScanResult = {
  /** Notices written (in-app notification + queued mail). */
  noticed: number;
  expiring: number;
  expired: number;
  /** Due tasks claimed without a notice: the creator's account is deleted, or a key showed it was already sent. */
  skipped: number;
  /** Batches lost to a concurrent scan (rolled back and re-read). */
  conflicts: number;
  batches: number;
  /** True when MAX_TASKS_PER_RUN was reached; the next run continues. */
  more: boolean;
};

type DueTask = ExpiryTask & { creator: Creator };

/** Due tasks with their creators, soonest expiry first; served by the expires_at index up to the horizon. */
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

/** `notified_for = expires_at` for exactly these (id, expires_at) pairs; a task moved meanwhile is left alone. */
function claimStatement(db: Db, chunk: DueTask[]) {
  const pairs = sql.join(
    chunk.map((task) => sql`(${task.id}, ${task.expiresAt})`),
    sql`, `,
  );
  return db
    .update(tasks)
    .set({ notifiedFor: sql`${tasks.expiresAt}` })
    .where(sql`(${tasks.id}, ${tasks.expiresAt}) IN (VALUES ${pairs})`);
}

function isKeyConflict(error: unknown): boolean {
  const text = `${error instanceof Error ? error.message : String(error)} ${(error as { cause?: unknown })?.cause ?? ""}`;
  return /UNIQUE constraint failed: processed_messages\.id|SQLITE_CONSTRAINT/i.test(text);
}

/** Claim, keys and notices of one chunk in one batch; sends the mail messages once it committed. */
async function noticeChunk(db: Db, env: Env, chunk: DueTask[], now: number, result: ScanResult): Promise<void> {
  const statements: BatchItem<"sqlite">[] = [claimStatement(db, chunk)];
  for (let i = 0; i < chunk.length; i += KEYS_PER_INSERT) {
    statements.push(
      db.insert(processedMessages).values(
        chunk.slice(i, i + KEYS_PER_INSERT).map((task) => ({
          id: expiryKey(task.id, task.expiresAt),
          queue: EXPIRY_KEY_QUEUE,
          processedAt: now,
        })),
      ),
    );
  }
  const queueMessages: Prepared["queueMessages"] = [];
  let expiring = 0;
  let expired = 0;
  let skipped = 0;
  for (const task of chunk) {
    if (task.creator.deletedAt !== null) {
      skipped += 1;
      continue;
    }
    const message = expiryMessage({ id: task.id, title: task.title, expiresAt: task.expiresAt }, now);
    const notice = notificationStatements(db, env, task.creator, message, { type: "task", id: task.id }, now);
    statements.push(...notice.statements);
    queueMessages.push(...notice.queueMessages);
    if (message.kind === "task.expired") expired += 1;
    else expiring += 1;
  }
  const [first, ...rest] = statements;
  await db.batch([first!, ...rest]);
  result.batches += 1;
  result.expiring += expiring;
  result.expired += expired;
  result.noticed += expiring + expired;
  result.skipped += skipped;
  try {
    await sendQueued(env, queueMessages);
  } catch (error) {
    // The notices are committed; their outbox rows stay `queued`. Failing the run would not resend them either.
    log("error", "task expiry notices committed but their mail messages were not queued", {
      tasks: chunk.map((task) => task.id),
      ...errorFields(error),
    });
  }
}

/**
 * A chunk that keeps conflicting although it was re-read: go task by task, and claim without a notice a task whose
 * key already exists (its notice for this very expiry was sent), so one bad row can never block the others.
 */
async function noticeOneByOne(db: Db, env: Env, chunk: DueTask[], now: number, result: ScanResult): Promise<void> {
  for (const task of chunk) {
    try {
      await noticeChunk(db, env, [task], now, result);
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
      result.conflicts += 1;
      const outcome = await db
        .update(tasks)
        .set({ notifiedFor: sql`${tasks.expiresAt}` })
        .where(
          and(
            eq(tasks.id, task.id),
            eq(tasks.expiresAt, task.expiresAt),
            sql`${tasks.notifiedFor} IS NOT ${tasks.expiresAt}`,
          ),
        )
        .run();
      if ((outcome.meta?.changes ?? 0) > 0) {
        result.skipped += 1;
        log("warn", "task expiry key already present; claimed without a second notice", {
          task_id: task.id,
          expires_at: task.expiresAt,
        });
      }
    }
  }
}

/**
 * The every-minute scan, a function of the database and `now` only. Reads due tasks oldest expiry first, a chunk at
 * a time, and notices each chunk in one batch (see the top of this file). Safe to run concurrently with itself.
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
  const result: ScanResult = { noticed: 0, expiring: 0, expired: 0, skipped: 0, conflicts: 0, batches: 0, more: false };
  let conflictsInARow = 0;
  for (;;) {
    const remaining = maxTasks - result.noticed - result.skipped;
    if (remaining <= 0) {
      result.more = (await selectDue(db, horizon, 1)).length > 0;
      break;
    }
    const chunk = await selectDue(db, horizon, Math.min(chunkSize, remaining));
    if (chunk.length === 0) break;
    if (conflictsInARow >= 2) {
      await noticeOneByOne(db, env, chunk, at, result);
      conflictsInARow = 0;
      continue;
    }
    try {
      await noticeChunk(db, env, chunk, at, result);
      conflictsInARow = 0;
    } catch (error) {
      if (!isKeyConflict(error)) throw error;
      // A concurrent scan committed some of these first; nothing of this batch was written. Re-read and go on.
      result.conflicts += 1;
      conflictsInARow += 1;
    }
  }
  return result;
}

/** The cron entry for `* * * * *`. */
export const expireTasksJob = (env: Env, now: Date) => scanExpiringTasks(env, now);
