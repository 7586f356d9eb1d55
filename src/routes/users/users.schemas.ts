import { z } from "@hono/zod-openapi";
import { USERNAME_PATTERN } from "../../auth/accounts";
import { isIdentityPassword, PASSWORD_IS_IDENTITY } from "../../auth/password-policy";
import { ROLES } from "../../db/schema";
import { queryPatterns } from "../../lib/openapi";
import { PaginationQuery, pageSchema } from "../../lib/pagination";

/** Emails are compared and stored lower-case. */
export const EmailField = z.email().max(254).toLowerCase().openapi({ example: "jane@example.com" });

export const UsernameField = z
  .string()
  .toLowerCase()
  .regex(USERNAME_PATTERN, "3 to 30 characters: letters, digits, '_', '.', '-', starting with a letter or digit")
  .openapi({ example: "jane", description: "Stored lower-case; unique." });

export const PasswordField = z
  .string()
  .min(8)
  .max(128)
  .openapi({ example: "correct horse battery", description: "8 to 128 characters, not equal to the email." });

/** The password policy (src/auth/password-policy.ts) as a refinement of a body that holds the email and username too. */
export function passwordNotIdentity(
  value: { email?: string; username?: string; password?: string },
  ctx: z.RefinementCtx,
) {
  if (isIdentityPassword(value.password, value)) {
    ctx.addIssue({ code: "custom", path: ["password"], message: PASSWORD_IS_IDENTITY });
  }
}

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.string().openapi({ example: "jane@example.com" }),
    username: z.string().openapi({ example: "jane" }),
    role: z.enum(ROLES),
    email_verified: z.boolean().openapi({
      description:
        "Whether the address is proven (mailed token or password reset) or vouched for (created or set by an admin). " +
        "Until it is, only verification and password-reset mail goes to it.",
    }),
    created_at: z.iso.datetime().openapi({ example: "2026-01-01T12:00:00.000Z" }),
    updated_at: z.iso.datetime().openapi({ example: "2026-01-01T12:00:00.000Z" }),
  })
  .openapi("User");

export const UserPageSchema = pageSchema(UserSchema, "UserPage");

/** Roles that can be given through the API: the superuser exists only from configuration. */
export const AssignableRole = z.enum(["admin", "member"]).openapi({
  description: "Only the superuser may give or take away 'admin'.",
});

export const USER_ORDERING = ["created_at", "email", "username"] as const;

export const ListUsersQuery = PaginationQuery.extend({
  role: z
    .enum(ROLES)
    .optional()
    .openapi({ param: { name: "role", in: "query" }, description: "Only users with this role." }),
  search: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .openapi({
      param: { name: "search", in: "query" },
      description: "Case-insensitive substring of the email or the username.",
      example: "jane",
    }),
  ordering: z
    .string()
    .optional()
    .openapi({
      param: { name: "ordering", in: "query" },
      pattern: queryPatterns.ordering(USER_ORDERING),
      description: `One of ${USER_ORDERING.join(", ")}; prefix '-' for descending. Default -created_at.`,
      example: "-created_at",
    }),
});

export const CreateUserBody = z
  .object({
    email: EmailField,
    username: UsernameField,
    password: PasswordField,
    role: AssignableRole.default("member"),
  })
  .strict()
  .superRefine(passwordNotIdentity)
  .openapi("CreateUser");

export const UpdateUserBody = z
  .object({
    email: EmailField.optional(),
    username: UsernameField.optional(),
    password: PasswordField.optional(),
    role: AssignableRole.optional(),
  })
  .strict()
  .superRefine((value, ctx) => {
    if (Object.values(value).every((v) => v === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: "Send at least one of email, username, password, role." });
    }
    passwordNotIdentity(value, ctx);
  })
  .openapi("UpdateUser", {
    description: "Any subset of the fields. A new password ends the user's sessions (refresh tokens).",
  });
