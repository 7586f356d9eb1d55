import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  deletedEmail,
  deletedUsername,
  ensureSuperuser,
  USERNAME_PATTERN,
  uniqueViolation,
  usernameBase,
} from "../../src/auth/accounts";
import { verifyPassword } from "../../src/auth/passwords";
import { getDb } from "../../src/db/client";

describe("usernameBase", () => {
  it.each([
    ["Jane.Doe@example.com", "jane.doe"],
    ["o'brien+tag@example.com", "obrientag"],
    ["__x@example.com", "xuser"],
    ["ab@example.com", "abuser"],
    ["@example.com", "user"],
    [`${"a".repeat(40)}@example.com`, "a".repeat(24)],
  ])("%s → %s, a valid username", (email, expected) => {
    expect(usernameBase(email)).toBe(expected);
    expect(usernameBase(email)).toMatch(USERNAME_PATTERN);
  });
});

describe("deleted identities", () => {
  it("can never collide with a real email or username", () => {
    const id = crypto.randomUUID();
    expect(deletedUsername(id)).not.toMatch(USERNAME_PATTERN);
    expect(deletedEmail(id)).toMatch(/@invalid$/); // RFC 2606 reserves .invalid; our email validation needs a dot-TLD
  });
});

describe("uniqueViolation", () => {
  it("names the index a D1 error hit", () => {
    const wrapped = (message: string) => new Error("Failed query", { cause: new Error(message) });
    expect(uniqueViolation(wrapped("D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"))).toBe(
      "email",
    );
    expect(uniqueViolation(new Error("UNIQUE constraint failed: users.username"))).toBe("username");
    expect(uniqueViolation(new Error("NOT NULL constraint failed: users.email"))).toBeNull();
    expect(uniqueViolation("nope")).toBeNull();
  });
});

describe("ensureSuperuser", { timeout: 20_000 }, () => {
  it("creates the configured superuser once and never changes it", async () => {
    const db = getDb(env.DB);
    expect(await ensureSuperuser(db, env, Date.now())).toBe(true);
    expect(await ensureSuperuser(db, { ...env, SUPERUSER_PASSWORD: "a different one" }, Date.now())).toBe(false);
    const { results } = await env.DB.prepare(
      "SELECT email, role, password_hash FROM users WHERE role = 'superuser'",
    ).all<{
      email: string;
      role: string;
      password_hash: string;
    }>();
    expect(results).toHaveLength(1);
    expect(results[0].email).toBe(env.SUPERUSER_EMAIL.toLowerCase());
    expect(await verifyPassword(env.SUPERUSER_PASSWORD, results[0].password_hash)).toBe(true);
  });

  it("does nothing without configuration", async () => {
    expect(await ensureSuperuser(getDb(env.DB), { ...env, SUPERUSER_EMAIL: "" }, Date.now())).toBe(false);
  });
});
