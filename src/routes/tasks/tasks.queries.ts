import { and, asc, count, desc, eq, getTableColumns, gt, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import { isAdmin } from "../../auth/require-auth";
import type { Db } from "../../db/client";
import { insertSelect } from "../../db/insert-select";
import { counters, type TaskStatus, tasks, users } from "../../db/schema";
import type { WritePlan } from "../../db/write-plan";
import type { Caller } from "../../env";
import type { Ordering } from "../../lib/ordering";
import type { Pagination } from "../../lib/pagination";
import { fromIso, toIso } from "../../lib/time";
import { expiryOnWrite } from "../../tasks/expiry";
import type { TASK_ORDERING, Task, TaskChanges } from "./tasks.schemas";

/** A task row with what the responses and the expiry notice need of its creator. */
export type TaskRow = typeof tasks.$inferSelect & {
  creatorUsername: string;
  creatorEmail: string;
  creatorDeletedAt: number | null;
};

const rowColumns = {
  ...getTableColumns(tasks),
  creatorUsername: users.username,
  creatorEmail: users.email,
  creatorDeletedAt: users.deletedAt,
};

export function toTask(row: TaskRow): Task {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    status: row.status,
    expires_at: toIso(row.expiresAt),
    created_by: { id: row.createdBy, username: row.creatorUsername },
    created_at: toIso(row.createdAt),
    updated_at: toIso(row.updatedAt),
  };
}

/** Rows by id (at most 100 ids: one bound parameter each), in no particular order. */
export function loadTasks(db: Db, ids: string[]): Promise<TaskRow[]> {
  return db
    .select(rowColumns)
    .from(tasks)
    .innerJoin(users, eq(users.id, tasks.createdBy))
    .where(inArray(tasks.id, ids));
}

export async function loadTask(db: Db, id: string): Promise<TaskRow | undefined> {
  const [row] = await loadTasks(db, [id]);
  return row;
}

export function canEditAll(user: Pick<Caller, "id" | "role">, row: Pick<TaskRow, "createdBy">): boolean {
  return row.createdBy === user.id || isAdmin(user);
}

/**
 * Users matched by `search` are resolved first (the users table is small) and the tasks filtered by
 * `created_by IN (...)`, which the (created_by, created_at) index serves. Past this many matches the ids go in as
 * a sub-select instead, so the statement stays under D1's 100 bound parameters.
 */
export const MAX_INLINE_CREATORS = 50;

/**
 * A substring of the username, or of the email for admins. Members see usernames, never emails, so for them an email
 * matches only when given whole: a substring search would let a member spell out a colleague's address letter by
 * letter from which searches return tasks.
 */
function creatorMatch(search: string, emailSubstring: boolean): SQL {
  return or(
    sql`instr(lower(${users.username}), lower(${search})) > 0`,
    emailSubstring ? sql`instr(lower(${users.email}), lower(${search})) > 0` : sql`${users.email} = lower(${search})`,
  )!;
}

export type TaskFilters = {
  search?: string;
  status?: TaskStatus[];
  q?: string;
  expires_before?: string;
  expires_after?: string;
};

/**
 * The WHERE of a list. A search that matches no user still yields a condition (one that matches nothing) and the
 * list still runs: answering at once cost one D1 round trip fewer, which told a member whether an address they
 * searched for is registered.
 */
export async function listConditions(
  db: Db,
  filters: TaskFilters,
  options: { emailSubstring: boolean } = { emailSubstring: false },
): Promise<SQL | undefined> {
  const conditions: SQL[] = [];
  if (filters.search !== undefined) {
    const matched = await db
      .select({ id: users.id })
      .from(users)
      .where(creatorMatch(filters.search, options.emailSubstring))
      .limit(MAX_INLINE_CREATORS + 1);
    conditions.push(
      matched.length <= MAX_INLINE_CREATORS
        ? inArray(
            tasks.createdBy,
            matched.map((u) => u.id),
          )
        : inArray(
            tasks.createdBy,
            db.select({ id: users.id }).from(users).where(creatorMatch(filters.search, options.emailSubstring)),
          ),
    );
  }
  if (filters.status?.length) conditions.push(inArray(tasks.status, filters.status));
  if (filters.q !== undefined) conditions.push(sql`instr(lower(${tasks.title}), lower(${filters.q})) > 0`);
  if (filters.expires_before !== undefined) conditions.push(lt(tasks.expiresAt, fromIso(filters.expires_before)));
  if (filters.expires_after !== undefined) conditions.push(gt(tasks.expiresAt, fromIso(filters.expires_after)));
  return and(...conditions);
}

const orderColumns = {
  created_at: tasks.createdAt,
  updated_at: tasks.updatedAt,
  expires_at: tasks.expiresAt,
  title: tasks.title,
} as const;

export function orderBy(ordering: Ordering<(typeof TASK_ORDERING)[number]>): SQL[] {
  const by = ordering.direction === "desc" ? desc : asc;
  const column = orderColumns[ordering.field];
  // Ties broken by id so pages never overlap or skip; tasks without an expiry last whichever the direction.
  const nullsLast = ordering.field === "expires_at" ? [sql`${tasks.expiresAt} IS NULL`] : [];
  return [...nullsLast, by(column), by(tasks.id)];
}

/** The page of rows (with the creator's username) for a list. */
export function pageQuery(
  db: Db,
  where: SQL | undefined,
  ordering: Ordering<(typeof TASK_ORDERING)[number]>,
  { limit, offset }: Pagination,
) {
  return db
    .select(rowColumns)
    .from(tasks)
    .innerJoin(users, eq(users.id, tasks.createdBy))
    .where(where)
    .orderBy(...orderBy(ordering))
    .limit(limit)
    .offset(offset);
}

/**
 * The total of a list: an unfiltered one is the `tasks` counter (one row, kept exact by triggers in every insert and
 * delete); a filtered one counts the matching rows through the index its filter uses.
 */
export function countQuery(db: Db, where: SQL | undefined) {
  if (where === undefined) return db.select({ total: counters.value }).from(counters).where(eq(counters.name, "tasks"));
  return db.select({ total: count() }).from(tasks).where(where);
}

/** The page and the total in one batch, so both come from the same snapshot. */
export async function listTasks(
  db: Db,
  where: SQL | undefined,
  ordering: Ordering<(typeof TASK_ORDERING)[number]>,
  pagination: Pagination,
): Promise<{ rows: TaskRow[]; total: number }> {
  const [rows, [counted]] = await db.batch([pageQuery(db, where, ordering, pagination), countQuery(db, where)]);
  return { rows, total: counted?.total ?? 0 };
}

/**
 * The INSERT of a new task, made only while its creator has fewer than `max` tasks (TASKS_MAX_PER_USER), done or not;
 * `RETURNING id` says whether it was. The count is in the statement, so parallel creates cannot overshoot (D1 runs
 * one statement at a time), and reads at most `max` entries of the (created_by, created_at) index.
 */
export function insertUnderCap(db: Db, values: typeof tasks.$inferInsert, max: number) {
  const under = sql`(SELECT count(*) FROM (SELECT 1 FROM ${tasks} WHERE ${tasks.createdBy} = ${values.createdBy} LIMIT ${max})) < ${max}`;
  return insertSelect(db, tasks, values, { where: under }).returning({ id: tasks.id });
}

/**
 * A task update as a write plan: the UPDATE, then (for a new expiry already past) the guarded notice and its arm,
 * last; its mail is queued only if the arm returned the task (tasks/expiry.ts armedMail).
 */
export type TaskUpdate = WritePlan & {
  /** Fields whose value differs from the stored one. */
  changed: (keyof TaskChanges)[];
  /** The task as written (`notifiedFor` is not part of any response and is left as read). */
  after: TaskRow;
};

/**
 * The statements that apply `changes` to `row` (nothing when every value is already stored): an UPDATE of only the
 * changed columns, plus what the expiry rules ask for in the same batch. Permission is checked by the caller.
 */
export function planUpdate(
  db: Db,
  env: Env,
  row: TaskRow,
  changes: TaskChanges,
  now: number,
  actorId: string,
): TaskUpdate {
  const next = {
    title: changes.title ?? row.title,
    description: changes.description ?? row.description,
    status: changes.status ?? row.status,
    expiresAt: changes.expires_at === undefined ? row.expiresAt : fromIso(changes.expires_at),
  };
  const changed: (keyof TaskChanges)[] = [];
  if (next.title !== row.title) changed.push("title");
  if (next.description !== row.description) changed.push("description");
  if (next.status !== row.status) changed.push("status");
  if (next.expiresAt !== row.expiresAt) changed.push("expires_at");
  if (changed.length === 0) return { changed, statements: [], queueMessages: [], after: row };

  const expiry = expiryOnWrite(db, env, {
    task: {
      id: row.id,
      title: next.title,
      status: next.status,
      expiresAt: next.expiresAt,
    },
    previousExpiresAt: row.expiresAt,
    creator: {
      id: row.createdBy,
      email: row.creatorEmail,
      username: row.creatorUsername,
      deletedAt: row.creatorDeletedAt,
    },
    actorId,
    now,
  });
  const set: SQLiteUpdateSetSource<typeof tasks> = { updatedAt: now };
  if (changed.includes("title")) set.title = next.title;
  if (changed.includes("description")) set.description = next.description;
  if (changed.includes("status")) set.status = next.status;
  if (changed.includes("expires_at")) {
    set.expiresAt = next.expiresAt;
    if (expiry.notifiedFor !== undefined) set.notifiedFor = expiry.notifiedFor;
  }
  // The UPDATE comes first: the notice of an expired task is guarded by the task as written.
  const update = db.update(tasks).set(set).where(eq(tasks.id, row.id));
  return {
    changed,
    statements: [update, ...expiry.statements],
    queueMessages: expiry.queueMessages,
    after: { ...row, ...next, updatedAt: now },
  };
}
