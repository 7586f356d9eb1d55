import type { Role } from "../../db/schema";

type Who = { id: string; role: Role };
export type UserAction = { kind: "create"; role: Role } | { kind: "update"; role?: Role } | { kind: "delete" };

/**
 * Who may do what to whom on /users (the caller already passed requireRole("admin")). Returns why not, or null.
 * Admins manage members; the superuser also manages admins; the superuser account itself is configuration, not data.
 */
export function forbiddenReason(actor: Who, target: Who | null, action: UserAction): string | null {
  const superuser = actor.role === "superuser";
  if (action.kind === "create") {
    return action.role !== "member" && !superuser ? "Only the superuser can create admins." : null;
  }
  if (!target) return null;
  if (target.role === "superuser") return "The superuser can be neither changed nor deleted through the API.";
  const self = target.id === actor.id;
  if (action.kind === "delete" && self) return "You cannot delete your own account.";
  if (action.kind === "update" && self && action.role !== undefined && action.role !== target.role) {
    return "You cannot change your own role.";
  }
  if (target.role === "admin" && !self && !superuser) return "Only the superuser can change or delete an admin.";
  if (action.kind === "update" && action.role === "admin" && target.role !== "admin" && !superuser) {
    return "Only the superuser can make admins.";
  }
  return null;
}
