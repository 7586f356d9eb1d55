import { describe, expect, it } from "vitest";
import type { Role } from "../../../src/db/schema";
import { forbiddenReason, type UserAction } from "../../../src/routes/users/users.policy";

const who = (id: string, role: Role) => ({ id, role });
const su = who("su", "superuser");
const admin = who("a1", "admin");
const otherAdmin = who("a2", "admin");
const member = who("m1", "member");

describe("forbiddenReason", () => {
  it.each<[string, { id: string; role: Role }, { id: string; role: Role } | null, UserAction, boolean]>([
    ["admin creates a member", admin, null, { kind: "create", role: "member" }, true],
    ["admin creates an admin", admin, null, { kind: "create", role: "admin" }, false],
    ["superuser creates an admin", su, null, { kind: "create", role: "admin" }, true],
    ["admin changes a member", admin, member, { kind: "update" }, true],
    ["admin promotes a member", admin, member, { kind: "update", role: "admin" }, false],
    ["superuser promotes a member", su, member, { kind: "update", role: "admin" }, true],
    ["admin deletes a member", admin, member, { kind: "delete" }, true],
    ["admin changes another admin", admin, otherAdmin, { kind: "update" }, false],
    ["admin deletes another admin", admin, otherAdmin, { kind: "delete" }, false],
    ["superuser demotes an admin", su, otherAdmin, { kind: "update", role: "member" }, true],
    ["superuser deletes an admin", su, otherAdmin, { kind: "delete" }, true],
    ["admin edits own profile", admin, admin, { kind: "update" }, true],
    ["admin re-sends own role", admin, admin, { kind: "update", role: "admin" }, true],
    ["admin demotes themselves", admin, admin, { kind: "update", role: "member" }, false],
    ["admin deletes themselves", admin, admin, { kind: "delete" }, false],
    ["admin changes the superuser", admin, su, { kind: "update" }, false],
    ["admin deletes the superuser", admin, su, { kind: "delete" }, false],
    ["superuser changes itself", su, su, { kind: "update" }, false],
    ["superuser deletes itself", su, su, { kind: "delete" }, false],
  ])("%s: allowed=%s", (_label, actor, target, action, allowed) => {
    const reason = forbiddenReason(actor, target, action);
    if (allowed) expect(reason).toBeNull();
    else expect(reason).toMatch(/\w/);
  });
});
