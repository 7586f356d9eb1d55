import { z } from "@hono/zod-openapi";
import { TASK_STATUSES } from "../../db/schema";
import { queryPatterns } from "../../lib/openapi";
import { PaginationQuery, pageSchema } from "../../lib/pagination";

export const TASK_FIELDS = [
  "id",
  "title",
  "description",
  "status",
  "expires_at",
  "created_by",
  "created_at",
  "updated_at",
] as const;
export const TASK_ORDERING = ["created_at", "updated_at", "expires_at", "title"] as const;
export const MAX_BULK = 100;

export const TaskStatus = z.enum(TASK_STATUSES).openapi({ example: "todo" });

export const TaskSchema = z
  .object({
    id: z.uuid(),
    title: z.string().openapi({ example: "Restock the warehouse" }),
    description: z.string(),
    status: TaskStatus,
    expires_at: z.iso.datetime().nullable().openapi({ example: "2026-11-20T14:05:00.000Z" }),
    created_by: z.object({ id: z.string(), username: z.string() }),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Task");

export const TaskPartialSchema = TaskSchema.partial().openapi("TaskFields", {
  description: "A task with only the fields chosen by `fields`/`omit` (all of them by default).",
});

const Title = z.string().trim().min(1).max(350).openapi({ example: "Restock the warehouse" });
const Description = z.string().max(10_000).openapi({ example: "Two pallets of lamps." });
const ExpiresAt = z.iso.datetime({ offset: true }).nullable().openapi({
  example: "2026-11-20T14:05:00Z",
  description: "ISO 8601 with Z or an offset; null for no expiry. A past time sends the expired notice at once.",
});

export const TaskCreateSchema = z
  .strictObject({
    title: Title,
    description: Description.default(""),
    status: TaskStatus.default("todo"),
    expires_at: ExpiresAt.default(null),
  })
  .openapi("TaskCreate");

export const TaskReplaceSchema = z
  .strictObject({ title: Title, description: Description, status: TaskStatus, expires_at: ExpiresAt })
  .openapi("TaskReplace", {
    description: "Every writable field (expires_at may be null); the id, creator and created_at are kept.",
  });

const patchShape = {
  title: Title.optional(),
  description: Description.optional(),
  status: TaskStatus.optional(),
  expires_at: ExpiresAt.optional(),
};
const hasAChange = (body: Record<string, unknown>) =>
  Object.keys(body).some((key) => key !== "id" && body[key] !== undefined);

export const TaskPatchSchema = z
  .strictObject(patchShape)
  .refine(hasAChange, { message: "send at least one of title, description, status, expires_at" })
  .openapi("TaskPatch");

const BulkItem = z
  .strictObject({ id: z.uuid(), ...patchShape })
  .refine(hasAChange, { message: "send at least one of title, description, status, expires_at" });

/** Path of the first repeated value, so a duplicate id is reported where it is. */
function duplicates(values: string[]): number[] {
  const seen = new Set<string>();
  const repeated: number[] = [];
  values.forEach((value, index) => {
    if (seen.has(value)) repeated.push(index);
    seen.add(value);
  });
  return repeated;
}

export const TaskBulkUpdateSchema = z
  .strictObject({ tasks: z.array(BulkItem).min(1).max(MAX_BULK) })
  .superRefine((body, ctx) => {
    for (const index of duplicates(body.tasks.map((t) => t.id))) {
      ctx.addIssue({ code: "custom", path: ["tasks", index, "id"], message: "duplicate id" });
    }
  })
  .openapi("TaskBulkUpdate", {
    example: { tasks: [{ id: "0b3d4b5e-8e7f-4a1f-9c1e-2f3a4b5c6d7e", status: "done" }] },
  });

export const TaskBulkDeleteSchema = z
  .strictObject({ ids: z.array(z.uuid()).min(1).max(MAX_BULK) })
  .superRefine((body, ctx) => {
    for (const index of duplicates(body.ids)) {
      ctx.addIssue({ code: "custom", path: ["ids", index], message: "duplicate id" });
    }
  })
  .openapi("TaskBulkDelete", { example: { ids: ["0b3d4b5e-8e7f-4a1f-9c1e-2f3a4b5c6d7e"] } });

export const TaskBulkResultSchema = z.object({ items: z.array(TaskSchema) }).openapi("TaskBulkResult");

/** `status=todo,in_progress` or `status=todo&status=in_progress` (or both), each one of the statuses. */
const StatusItem = z.string().openapi({ pattern: queryPatterns.someOf(TASK_STATUSES) });
const StatusQuery = z
  .union([StatusItem, z.array(StatusItem)])
  .transform((value, ctx) => {
    const names = (Array.isArray(value) ? value : [value])
      .flatMap((part) => part.split(","))
      .map((part) => part.trim())
      .filter(Boolean);
    const unknown = names.filter((name) => !(TASK_STATUSES as readonly string[]).includes(name));
    if (names.length === 0 || unknown.length > 0) {
      ctx.addIssue({
        code: "custom",
        message: `each status must be one of ${TASK_STATUSES.join(", ")}${unknown.length ? `; got ${unknown.join(", ")}` : ""}`,
      });
      return z.NEVER;
    }
    return [...new Set(names)] as (typeof TASK_STATUSES)[number][];
  })
  .optional()
  .openapi({
    param: { name: "status", in: "query", style: "form", explode: true },
    description: `One or several of ${TASK_STATUSES.join(", ")}: comma-separated, repeated, or both.`,
    example: "todo,in_progress",
  });

const TimeQuery = (name: string, description: string) =>
  z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ param: { name, in: "query" }, description, example: "2026-11-20T14:05:00Z" });

export const TaskListQuery = PaginationQuery.extend({
  search: z
    .string()
    .trim()
    .min(1)
    .max(254)
    .optional()
    .openapi({
      param: { name: "search", in: "query" },
      description:
        "Case-insensitive: a substring of the creator's username, or their email (a substring for admins; the whole " +
        "address for members, who never see emails).",
      example: "alice",
    }),
  status: StatusQuery,
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .openapi({ param: { name: "q", in: "query" }, description: "Case-insensitive substring of the title." }),
  expires_before: TimeQuery("expires_before", "Only tasks expiring strictly before this time."),
  expires_after: TimeQuery("expires_after", "Only tasks expiring strictly after this time."),
  ordering: z
    .string()
    .optional()
    .openapi({
      param: { name: "ordering", in: "query" },
      pattern: queryPatterns.ordering(TASK_ORDERING),
      description: `One of ${TASK_ORDERING.join(", ")}; prefix - for descending. Default -created_at; ties by id. Tasks without an expiry sort last by expires_at either way.`,
      example: "expires_at",
    }),
  fields: z
    .string()
    .optional()
    .openapi({
      param: { name: "fields", in: "query" },
      pattern: queryPatterns.fieldList(TASK_FIELDS),
      description: `Comma-separated subset of ${TASK_FIELDS.join(", ")}.`,
    }),
  omit: z
    .string()
    .optional()
    .openapi({
      param: { name: "omit", in: "query" },
      pattern: queryPatterns.fieldList(TASK_FIELDS),
      description: "Comma-separated fields to leave out.",
    }),
});

export const TaskFieldsQuery = TaskListQuery.pick({ fields: true, omit: true });

export const TaskPageSchema = pageSchema(TaskPartialSchema, "TaskPage");

export const TaskIdParam = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" }, example: "0b3d4b5e-8e7f-4a1f-9c1e-2f3a4b5c6d7e" }),
});

export type Task = z.infer<typeof TaskSchema>;
export type TaskChanges = {
  title?: string;
  description?: string;
  status?: (typeof TASK_STATUSES)[number];
  expires_at?: string | null;
};

/** The list's query without paging: an export holds every matching row (up to its bound). */
export const TaskExportQuery = TaskListQuery.omit({ limit: true, offset: true });
