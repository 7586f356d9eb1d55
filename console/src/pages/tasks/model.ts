import type { components } from "../../api/schema";
import type { User } from "../../session";
import { hasRole } from "../../session";
import { BY_AGE, listMemory, RECENTLY_CHANGED } from "../../ui/list";

export type Task = components["schemas"]["Task"];
export type Status = Task["status"];

export const STATUSES: { value: Status; label: string }[] = [
  { value: "todo", label: "To do" },
  { value: "in_progress", label: "In progress" },
  { value: "done", label: "Done" },
];

export const statusLabel = (status: Status) => STATUSES.find((s) => s.value === status)?.label ?? status;

export const ORDERINGS = [
  ...BY_AGE,
  RECENTLY_CHANGED,
  { value: "expires_at", label: "Expiring soonest" },
  { value: "-expires_at", label: "Expiring latest" },
  { value: "title", label: "Title A–Z" },
  { value: "-title", label: "Title Z–A" },
] as const;

/** Anyone may change a task's status; the other fields and deleting are the creator's or an admin's. */
export const mayEdit = (task: Pick<Task, "created_by">, user: User | null) =>
  user !== null && (task.created_by.id === user.id || hasRole(user, "admin"));

/** Expired: past its expiry and not done (a done task has nothing left to miss). */
export const isExpired = (task: Pick<Task, "expires_at" | "status">, now: number) =>
  task.status !== "done" && task.expires_at !== null && Date.parse(task.expires_at) <= now;

/** The list as the person last saw it, so "Back to the tasks" keeps their filters. */
export const taskList = listMemory("/tasks", "the tasks");
