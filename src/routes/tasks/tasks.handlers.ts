import { and, eq, inArray } from "drizzle-orm";
import { isAdmin } from "../../auth/require-auth";
import type { Db } from "../../db/client";
import { tasks } from "../../db/schema";
import type { WritePlan } from "../../db/write-plan";
import type { Caller, Handler } from "../../env";
import { ApiError } from "../../lib/errors";
import { parseFieldSelection, pickFields } from "../../lib/fields";
import { errorFields, log } from "../../lib/log";
import { API_PREFIX } from "../../lib/openapi";
import { parseOrdering } from "../../lib/ordering";
import { page } from "../../lib/pagination";
import { settings } from "../../lib/settings";
import { fromIso } from "../../lib/time";
import { sendQueued } from "../../mail/enqueue";
import { armedMail, expiryOnWrite } from "../../tasks/expiry";
import {
  canEditAll,
  insertUnderCap,
  listConditions,
  listTasks as listTaskRows,
  loadTask,
  loadTasks,
  planUpdate,
  type TaskRow,
  type TaskUpdate,
  toTask,
} from "./tasks.queries";
import type * as routes from "./tasks.routes";
import { TASK_FIELDS, TASK_ORDERING, type TaskChanges } from "./tasks.schemas";

const FORBIDDEN_EDIT = "Only the creator or an admin may change fields other than status.";
const FORBIDDEN_DELETE = "Only the creator or an admin may delete this task.";

function notFound(id: string): never {
  throw new ApiError("not_found", `No task with id ${id}.`);
}

/**
 * Runs the parts' statements as one transaction, then queues the mail of the notices it actually wrote (a part's
 * notice is guarded, and its arm, the part's last statement, says whether it was written: see tasks/expiry.ts).
 * Once the batch has committed, a failed queue send must not turn the answer into a 500 (a client would retry a
 * write that happened, and a create would be made twice): the outbox rows stay `queued` and the every-minute
 * requeue sweep sends them.
 */
async function commit(db: Db, env: Env, parts: WritePlan[]): Promise<unknown[]> {
  const [first, ...rest] = parts.flatMap((part) => part.statements);
  if (!first) return [];
  const results = await db.batch([first, ...rest]);
  const queueMessages = armedMail(parts, results);
  try {
    await sendQueued(env, queueMessages);
  } catch (error) {
    log("error", "task notice committed but its mail message was not queued; the requeue sweep will send it", {
      outbox_ids: queueMessages.map((message) => message.body.id),
      ...errorFields(error),
    });
  }
  return results;
}

export const listTasks: Handler<typeof routes.listTasks> = async (c) => {
  const query = c.req.valid("query");
  const selected = parseFieldSelection(TASK_FIELDS, query.fields, query.omit);
  const ordering = parseOrdering(query.ordering, TASK_ORDERING, { field: "created_at", direction: "desc" });
  const pagination = { limit: query.limit, offset: query.offset };
  const { db, caller } = c.var;
  const where = await listConditions(db, query, { emailSubstring: isAdmin(caller) });
  const { rows, total } = await listTaskRows(db, where, ordering, pagination);
  return c.json(
    page(
      rows.map((row) => pickFields(toTask(row), selected)),
      total,
      pagination,
    ),
    200,
  );
};

export const getTask: Handler<typeof routes.getTask> = async (c) => {
  const { id } = c.req.valid("param");
  const { fields, omit } = c.req.valid("query");
  const selected = parseFieldSelection(TASK_FIELDS, fields, omit);
  const row = await loadTask(c.var.db, id);
  if (!row) notFound(id);
  return c.json(pickFields(toTask(row), selected), 200);
};

export const createTask: Handler<typeof routes.createTask> = async (c) => {
  const body = c.req.valid("json");
  const { db, caller } = c.var;
  // requireCaller checked the caller before this handler (a write checks first), so the row is at hand.
  const user = await caller.row();
  const now = Date.now();
  const id = crypto.randomUUID();
  const expiresAt = fromIso(body.expires_at);
  const expiry = expiryOnWrite(db, c.env, {
    task: { id, title: body.title, status: body.status, expiresAt },
    previousExpiresAt: undefined,
    creator: { ...user, deletedAt: null },
    actorId: user.id,
    now,
  });
  const row: TaskRow = {
    id,
    title: body.title,
    description: body.description,
    status: body.status,
    expiresAt,
    notifiedFor: null,
    createdBy: user.id,
    createdAt: now,
    updatedAt: now,
    creatorUsername: user.username,
    creatorEmail: user.email,
    creatorDeletedAt: null,
  };
  const { creatorUsername: _u, creatorEmail: _e, creatorDeletedAt: _d, ...values } = row;
  const max = settings(c.env).tasksMaxPerUser;
  // Refused, the INSERT writes nothing and neither does the notice after it (guarded by the task's row).
  const [inserted] = await commit(db, c.env, [
    { statements: [insertUnderCap(db, values, max), ...expiry.statements], queueMessages: expiry.queueMessages },
  ]);
  if ((inserted as unknown[]).length === 0) {
    throw new ApiError(
      "conflict",
      `You have ${max} tasks, the most one account may keep; delete some (finished ones, say) to create more.`,
    );
  }
  c.header("Location", `${API_PREFIX}/tasks/${id}`);
  return c.json(toTask(row), 201);
};

/** Applies one task's changes after the permission check; 403 when a non-status field changes for a non-owner. */
async function updateOne({ db, caller }: { db: Db; caller: Caller }, env: Env, id: string, changes: TaskChanges) {
  const row = await loadTask(db, id);
  if (!row) notFound(id);
  const plan = planUpdate(db, env, row, changes, Date.now(), caller.id);
  if (!canEditAll(caller, row) && plan.changed.some((field) => field !== "status")) {
    throw new ApiError("forbidden", FORBIDDEN_EDIT, {
      errors: plan.changed
        .filter((field) => field !== "status")
        .map((field) => ({ path: field, message: "only the creator or an admin may change this" })),
    });
  }
  await commit(db, env, [plan]);
  return toTask(plan.after);
}

export const replaceTask: Handler<typeof routes.replaceTask> = async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await updateOne(c.var, c.env, id, c.req.valid("json")), 200);
};

export const patchTask: Handler<typeof routes.patchTask> = async (c) => {
  const { id } = c.req.valid("param");
  return c.json(await updateOne(c.var, c.env, id, c.req.valid("json")), 200);
};

export const deleteTask: Handler<typeof routes.deleteTask> = async (c) => {
  const { id } = c.req.valid("param");
  const { db, caller: user } = c.var;
  // One round trip when allowed: the permission is part of the DELETE, and RETURNING says whether it matched. Only
  // a refusal reads the row, to tell 404 from 403. The scan only ever notices rows that exist, so removing the row
  // is what cancels a pending notice.
  const mine = isAdmin(user) ? eq(tasks.id, id) : and(eq(tasks.id, id), eq(tasks.createdBy, user.id));
  const deleted = await db.delete(tasks).where(mine).returning({ id: tasks.id });
  if (deleted.length === 0) {
    if (!(await loadTask(db, id))) notFound(id);
    throw new ApiError("forbidden", FORBIDDEN_DELETE);
  }
  return c.body(null, 204);
};

type Failure = { id: string; reason: "not_found" | "forbidden" };

/** 404 when any id is unknown, else 403; every offending id is listed with its reason and its path in the body. */
function bulkFailure(failures: (Failure & { path: string })[], total: number, verb: string): never {
  const code = failures.some((f) => f.reason === "not_found") ? "not_found" : "forbidden";
  throw new ApiError(code, `${failures.length} of the ${total} tasks cannot be ${verb} by you; nothing was changed.`, {
    errors: failures.map((f) => ({ path: f.path, message: f.reason })),
    extra: { failures: failures.map(({ id, reason }) => ({ id, reason })) },
  });
}

export const bulkUpdateTasks: Handler<typeof routes.bulkUpdateTasks> = async (c) => {
  const { tasks: items } = c.req.valid("json");
  const { db, caller: user } = c.var;
  const rows = new Map(
    (
      await loadTasks(
        db,
        items.map((item) => item.id),
      )
    ).map((row) => [row.id, row]),
  );
  const now = Date.now();
  const failures: (Failure & { path: string })[] = [];
  const plans: TaskUpdate[] = [];
  items.forEach(({ id, ...changes }, index) => {
    const row = rows.get(id);
    if (!row) {
      failures.push({ id, reason: "not_found", path: `tasks.${index}.id` });
      return;
    }
    const plan = planUpdate(db, c.env, row, changes, now, user.id);
    if (!canEditAll(user, row) && plan.changed.some((field) => field !== "status")) {
      failures.push({ id, reason: "forbidden", path: `tasks.${index}.id` });
      return;
    }
    plans.push(plan);
  });
  if (failures.length > 0) bulkFailure(failures, items.length, "changed");
  await commit(db, c.env, plans);
  return c.json({ items: plans.map((plan) => toTask(plan.after)) }, 200);
};

export const bulkDeleteTasks: Handler<typeof routes.bulkDeleteTasks> = async (c) => {
  const { ids } = c.req.valid("json");
  const { db, caller: user } = c.var;
  const rows = new Map((await loadTasks(db, ids)).map((row) => [row.id, row]));
  const failures: (Failure & { path: string })[] = [];
  ids.forEach((id, index) => {
    const row = rows.get(id);
    if (!row) failures.push({ id, reason: "not_found", path: `ids.${index}` });
    else if (!canEditAll(user, row)) failures.push({ id, reason: "forbidden", path: `ids.${index}` });
  });
  if (failures.length > 0) bulkFailure(failures, ids.length, "deleted");
  // One statement (at most 100 bound parameters) is already atomic.
  await db.delete(tasks).where(inArray(tasks.id, ids));
  return c.body(null, 204);
};
