import type { RouteHandler } from "@hono/zod-openapi";
import { and } from "drizzle-orm";
import { isAdmin } from "../../auth/require-auth";
import { getDb } from "../../db/client";
import type { AppEnv } from "../../env";
import { type CsvColumns, selectColumns } from "../../lib/csv";
import { admitExport, csvAnswer, EXPORT_MAX_ROWS, keysetPages } from "../../lib/export";
import { parseFieldSelection } from "../../lib/fields";
import { parseOrdering } from "../../lib/ordering";
import { countQuery, listConditions, pageQuery, sortKeys, type TaskRow, toTask } from "./tasks.queries";
import type * as routes from "./tasks.routes";
import { TASK_FIELDS, TASK_ORDERING, type Task } from "./tasks.schemas";

/** A description may be 10,000 characters, so a page stays near a megabyte at worst. */
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

export const exportTasks: RouteHandler<typeof routes.exportTasks, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const columns = selectColumns(COLUMNS, TASK_FIELDS, parseFieldSelection(TASK_FIELDS, query.fields, query.omit));
  const ordering = parseOrdering(query.ordering, TASK_ORDERING, { field: "created_at", direction: "desc" });
  const db = getDb(c.env.DB);
  // The list's own conditions, so the export obeys the same rule on who may search by what.
  const where = await listConditions(db, query, { emailSubstring: isAdmin(c.get("user")) });
  const total = where === null ? 0 : ((await countQuery(db, where))[0]?.total ?? 0);
  await admitExport(c, db, "tasks", total);
  const keys = sortKeys(ordering);
  const page = (after: ReturnType<typeof and>, limit: number): Promise<TaskRow[]> =>
    where === null ? Promise.resolve([]) : pageQuery(db, and(where, after), ordering, { limit, offset: 0 });
  return csvAnswer(c, {
    name: "tasks",
    total,
    header: columns.map((column) => column.header),
    pages: keysetPages(keys, page, PAGE_ROWS, EXPORT_MAX_ROWS),
    record: (row) => {
      const task = toTask(row);
      return columns.map((column) => column.cell(task));
    },
  });
};
