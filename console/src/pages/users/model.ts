import { forbiddenReason, type UserAction } from "../../../../src/routes/users/users.policy";
import type { components } from "../../api/schema";
import type { User } from "../../session";
import { BY_AGE, listMemory } from "../../ui/list";

export type ManagedUser = components["schemas"]["User"];
export type AssignableRole = "member" | "admin";
export const ASSIGNABLE_ROLES: { value: AssignableRole; label: string }[] = [
  { value: "member", label: "Member" },
  { value: "admin", label: "Admin" },
];

export const ORDERINGS = [
  ...BY_AGE,
  { value: "username", label: "Username A–Z" },
  { value: "email", label: "Email A–Z" },
] as const;

/**
 * Why the signed-in admin may not do `action` to `target` (null: allowed). The console asks the API's own policy
 * module (src/routes/users/users.policy.ts), so what is shown disabled is exactly what the API would refuse.
 */
export function whyNot(me: User | null, target: ManagedUser | null, action: UserAction): string | null {
  if (!me) return "Sign in first.";
  return forbiddenReason(me, target, action);
}

/** The list as the person last saw it, so "Back to the users" keeps their filters. */
export const userList = listMemory("/users", "the users");
