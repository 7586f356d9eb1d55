import { createRoute } from "@hono/zod-openapi";
import { requireCaller, requireCallerBatched } from "../../auth/require-auth";
import { csvResponse, EXPORT_RULES } from "../../lib/export";
import { BODY_ERRORS, bearerSecurity, errorResponses, jsonBody, jsonContent } from "../../lib/openapi";
import {
  MAX_BULK,
  TaskBulkDeleteSchema,
  TaskBulkResultSchema,
  TaskBulkUpdateSchema,
  TaskCreateSchema,
  TaskExportQuery,
  TaskFieldsQuery,
  TaskIdParam,
  TaskListQuery,
  TaskPageSchema,
  TaskPartialSchema,
  TaskPatchSchema,
  TaskReplaceSchema,
  TaskSchema,
} from "./tasks.schemas";

const tags = ["tasks"];
// The caller check joins each handler's first read (one batch); a create uses the caller's name before any read.
const signedIn: [typeof requireCallerBatched] = [requireCallerBatched];
const WHO =
  "Any signed-in user may change `status`; only the creator or an admin may change other fields (403 otherwise).";
const EXPIRY =
  "Moving `expires_at` re-arms the expiry notice; a new `expires_at` already in the past sends the creator the " +
  "expired notice at once, in the same write.";
const BULK_FAILURE =
  "All or nothing: when any id is unknown (404) or not allowed for the caller (403; 404 wins when both occur), " +
  "nothing changes and the problem lists every offending id in `failures: [{ id, reason }]` " +
  "(reason `not_found` or `forbidden`) and in `errors`.";

export const listTasks = createRoute({
  method: "get",
  path: "/tasks",
  operationId: "listTasks",
  tags,
  summary: "List tasks",
  description:
    "The shared wall: every signed-in user sees every task. Filters combine: `search` (creator's username or email), " +
    "`status` (one or several), `q` (title), `expires_before`/`expires_after` (exclusive). `fields`/`omit` choose " +
    "the keys of each item (unknown field: 400). `total` counts every match, not just the page.",
  security: bearerSecurity,
  middleware: signedIn,
  request: { query: TaskListQuery },
  responses: {
    200: jsonContent(TaskPageSchema, "A page of tasks"),
    ...errorResponses(400, 401),
  },
});

export const createTask = createRoute({
  method: "post",
  path: "/tasks",
  operationId: "createTask",
  tags,
  summary: "Create a task",
  description:
    "The caller becomes the creator. Unknown fields are a 422. An account keeps at most TASKS_MAX_PER_USER tasks " +
    `(5,000 by default, done or not): past it a 409 until it deletes some. ${EXPIRY}`,
  security: bearerSecurity,
  middleware: [requireCaller] as const,
  request: { body: jsonBody(TaskCreateSchema) },
  responses: {
    201: {
      ...jsonContent(TaskSchema, "The created task"),
      headers: { Location: { description: "The task's URL", schema: { type: "string" } } },
    },
    ...errorResponses(401, 409, ...BODY_ERRORS),
  },
});

export const bulkUpdateTasks = createRoute({
  method: "put",
  path: "/tasks",
  operationId: "bulkUpdateTasks",
  tags,
  summary: "Update several tasks",
  description: `Up to ${MAX_BULK} partial updates \`{ id, ...changes }\`, applied in one transaction. ${WHO} ${BULK_FAILURE} ${EXPIRY}`,
  security: bearerSecurity,
  middleware: signedIn,
  request: { body: jsonBody(TaskBulkUpdateSchema) },
  responses: {
    200: jsonContent(TaskBulkResultSchema, "The tasks as they are now, in request order"),
    ...errorResponses(401, 403, 404, ...BODY_ERRORS),
  },
});

export const bulkDeleteTasks = createRoute({
  method: "delete",
  path: "/tasks",
  operationId: "bulkDeleteTasks",
  tags,
  summary: "Delete several tasks",
  description: `Up to ${MAX_BULK} ids in a JSON body \`{ ids: [...] }\`, deleted in one transaction; only the creator or an admin may delete a task. ${BULK_FAILURE} Deleting a task cancels its expiry notice.`,
  security: bearerSecurity,
  middleware: signedIn,
  request: { body: jsonBody(TaskBulkDeleteSchema) },
  responses: {
    204: { description: "Every task was deleted" },
    ...errorResponses(401, 403, 404, ...BODY_ERRORS),
  },
});

export const getTask = createRoute({
  method: "get",
  path: "/tasks/{id}",
  operationId: "getTask",
  tags,
  summary: "Read one task",
  description: "Any signed-in user may read any task. `fields`/`omit` work as on the list.",
  security: bearerSecurity,
  middleware: signedIn,
  request: { params: TaskIdParam, query: TaskFieldsQuery },
  responses: {
    200: jsonContent(TaskPartialSchema, "The task"),
    ...errorResponses(400, 401, 404),
  },
});

export const replaceTask = createRoute({
  method: "put",
  path: "/tasks/{id}",
  operationId: "replaceTask",
  tags,
  summary: "Replace a task",
  description: `Every writable field must be sent. ${WHO} A field sent with its current value counts as unchanged. ${EXPIRY}`,
  security: bearerSecurity,
  middleware: signedIn,
  request: { params: TaskIdParam, body: jsonBody(TaskReplaceSchema) },
  responses: {
    200: jsonContent(TaskSchema, "The task as it is now"),
    ...errorResponses(401, 403, 404, ...BODY_ERRORS),
  },
});

export const patchTask = createRoute({
  method: "patch",
  path: "/tasks/{id}",
  operationId: "patchTask",
  tags,
  summary: "Change some fields of a task",
  description: `Only the fields sent change. ${WHO} Marking a task done cancels its expiry notice. ${EXPIRY}`,
  security: bearerSecurity,
  middleware: signedIn,
  request: { params: TaskIdParam, body: jsonBody(TaskPatchSchema) },
  responses: {
    200: jsonContent(TaskSchema, "The task as it is now"),
    ...errorResponses(401, 403, 404, ...BODY_ERRORS),
  },
});

export const deleteTask = createRoute({
  method: "delete",
  path: "/tasks/{id}",
  operationId: "deleteTask",
  tags,
  summary: "Delete a task",
  description: "Only the creator or an admin may delete a task (403 otherwise). Deleting cancels its expiry notice.",
  security: bearerSecurity,
  middleware: signedIn,
  request: { params: TaskIdParam },
  responses: {
    204: { description: "Deleted" },
    ...errorResponses(400, 401, 403, 404),
  },
});

export const exportTasks = createRoute({
  method: "get",
  path: "/tasks/export",
  operationId: "exportTasks",
  tags,
  summary: "Export the filtered task list as CSV",
  description:
    "The same filters, `ordering` and `fields`/`omit` as the list, and the same rule for who may use which filter. " +
    "Columns follow `fields` in list order; `created_by` becomes `created_by_id` and `created_by_username`. " +
    EXPORT_RULES,
  security: bearerSecurity,
  middleware: signedIn,
  request: { query: TaskExportQuery },
  responses: {
    200: csvResponse("The tasks as CSV, one record per task"),
    ...errorResponses(400, 401, 429),
  },
});
