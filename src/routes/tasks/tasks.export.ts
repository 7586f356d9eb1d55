import { isAdmin } from "../../auth/require-auth";
import type { Db } from "../../db/client";
import { tasks } from "../../db/schema";
import type { Caller, Handler } from "../../env";
import { type CsvColumns, selectColumns } from "../../lib/csv";
import { admitExport, csvAnswer, EXPORT_MAX_ROWS, pagesOf } from "../../lib/export";
import { parseFieldSelection } from "../../lib/fields";
import { parseOrdering } from "../../lib/ordering";
import { countQuery, listConditions, loadTasks, orderBy, type TaskFilters, toTask } from "./tasks.queries";
import type * as routes from "./tasks.routes";
import { TASK_FIELDS, TASK_ORDERING, type Task } from "./tasks.schemas";

/** A description may be 10,000 characters, so a page stays near a megabyte at worst (and 100 ids bind 100 values). */
const PAGE_ROWS = 100;

const COLUMNS: CsvColumns<Task> = {
  id: [{ header: "id", cell: (t) => t.id }],
  title: [{ header: "title", cell: (t) => t.title }],
  description: [{ header: "description", cell: (t) => t.description }],
  status: [{ header: "status", cell: (t) => t.status }],
  expires_at: [{ header: "expires_at", cell: (t) => t.expires_at }],
  created_by: [
    { header: "created_by_id", cell: (t) => t.created_by.id },
    { header: "created_by_username", cell: (t) => t.created_by.username },
  ],
  created_at: [{ header: "created_at", cell: (t) => t.created_at }],
  updated_at: [{ header: "updated_at", cell: (t) => t.updated_at }],
};

/**
 * The ids of the tasks the list's query matches, in its order (one more than an export holds, at most, so a wider
 * filter shows), and their rows page by page by id.
 */
export async function exportedTasks(db: Db, query: TaskFilters & { ordering?: string }, user: Pick<Caller, "role">) {
  const ordering = parseOrdering(query.ordering, TASK_ORDERING, { field: "created_at", direction: "desc" });
  // The list's own conditions, so the export obeys the same rule on who may search by what.
  const where = await listConditions(db, query, { emailSubstring: isAdmin(user) });
  const ids = (
    await db
      .select({ id: tasks.id })
      .from(tasks)
      .where(where)
      .orderBy(...orderBy(ordering))
      .limit(EXPORT_MAX_ROWS + 1)
  ).map((row) => row.id);
  return {
    ids,
    count: async () => (await countQuery(db, where))[0]?.total ?? 0,
    pages: () =>
      pagesOf(
        ids,
        PAGE_ROWS,
        (chunk) => loadTasks(db, chunk),
        (row) => row.id,
      ),
  };
}

export const exportTasks: Handler<typeof routes.exportTasks> = async (c) => {
  const query = c.req.valid("query");
  const columns = selectColumns(COLUMNS, TASK_FIELDS, parseFieldSelection(TASK_FIELDS, query.fields, query.omit));
  const { db, caller } = c.var;
  const matched = await exportedTasks(db, query, caller);
  await admitExport(c, db, caller, "tasks", matched.ids.length, matched.count);
  return csvAnswer(c, {
    name: "tasks",
    total: matched.ids.length,
    header: columns.map((column) => column.header),
    pages: matched.pages(),
    record: (row) => {
      const task = toTask(row);
      return columns.map((column) => column.cell(task));
    },
  });
};
