import { z } from "@hono/zod-openapi";
import { EmailField, PasswordField, passwordNotIdentity, UsernameField, UserSchema } from "../users/users.schemas";

export const RegisterBody = z
  .object({
    email: EmailField,
    password: PasswordField,
    username: UsernameField.optional().openapi({
      description: "Optional: derived from the email's local part (made unique) when left out.",
    }),
  })
  .strict()
  .superRefine(passwordNotIdentity)
  .openapi("Register");

const DeviceTokenField = z
  .string()
  .min(1)
  .max(2048)
  .openapi({
    description:
      "The device token from an earlier sign-in to this account (also accepted as the `device_token` cookie). With " +
      "it, attempts are limited per device and never by the account's lock.",
  });

export const LoginBody = z
  .object({
    email: z.string().trim().toLowerCase().min(1).max(254).openapi({ example: "admin@example.com" }),
    password: z.string().min(1).max(1024).openapi({ example: "admin-demo-password" }),
    device_token: DeviceTokenField.optional(),
  })
  .openapi("Login");

export const RefreshTokenBody = z
  .object({
    refresh_token: z
      .string()
      .min(1)
      .max(512)
      .openapi({ description: "The opaque refresh token from login or refresh." }),
  })
  .openapi("RefreshTokenRequest");

export const TokenPairSchema = z
  .object({
    access_token: z.string().openapi({ description: "HS256 JWT (typ at+jwt); send as 'Authorization: Bearer …'." }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Seconds until the access token expires.", example: 900 }),
    refresh_token: z.string().openapi({
      description:
        "Opaque; single use. Trade it at POST /auth/refresh for a new pair; using it twice ends the session.",
    }),
    refresh_expires_in: z
      .number()
      .int()
      .openapi({ description: "Seconds until the refresh token expires if unused.", example: 2592000 }),
    user: UserSchema,
    device_token: z
      .string()
      .optional()
      .openapi({
        description:
          "Present after a sign-in with a password (login, register, password change): keep it and send it with the " +
          "next login of this account (body field or the HttpOnly `device_token` cookie set alongside).",
      }),
  })
  .openapi("TokenPair");

const OpaqueTokenField = z
  .string()
  .min(1)
  .max(512)
  .openapi({ description: "The token from the mail, as it is.", example: "q3Jf…" });

export const VerifyEmailBody = z.object({ token: OpaqueTokenField }).strict().openapi("VerifyEmail");

export const ForgotPasswordBody = z
  .object({ email: z.string().trim().toLowerCase().min(1).max(254).openapi({ example: "jane@example.com" }) })
  .strict()
  .openapi("ForgotPassword");

export const ResetPasswordBody = z
  .object({ token: OpaqueTokenField, password: PasswordField })
  .strict()
  .openapi("ResetPassword");

export const ChangePasswordBody = z
  .object({ current_password: z.string().min(1).max(1024), new_password: PasswordField })
  .strict()
  .superRefine((value, ctx) => {
    if (value.new_password === value.current_password) {
      ctx.addIssue({ code: "custom", path: ["new_password"], message: "The new password must differ from the old." });
    }
  })
  .openapi("ChangePassword");

export const AcceptedSchema = z
  .object({ message: z.string().openapi({ example: "If that address has an account, a mail is on its way." }) })
  .openapi("Accepted");

/** What the console's sign-in routes answer: never a token (those travel in `__Host-` cookies). */
export const ConsoleSessionSchema = z
  .object({
    user: UserSchema,
    expires_in: z
      .number()
      .int()
      .openapi({ description: "Seconds the access cookie (`__Host-access`) lives.", example: 900 }),
    refresh_expires_in: z
      .number()
      .int()
      .openapi({ description: "Seconds the refresh cookie (`__Host-refresh`) lives if unused.", example: 2592000 }),
  })
  .openapi("ConsoleSession");

export const ConsoleSignInBody = z
  .object({
    email: LoginBody.shape.email,
    password: LoginBody.shape.password,
  })
  .strict()
  .openapi("ConsoleSignIn");

export const AuthConfigSchema = z
  .object({
    signup: z
      .boolean()
      .openapi({ description: 'Whether sign-up is open (ALLOW_SIGNUP): the console shows "Sign up" only then.' }),
  })
  .openapi("AuthConfig");
