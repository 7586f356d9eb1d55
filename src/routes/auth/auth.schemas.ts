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

export const LoginBody = z
  .object({
    email: z.string().trim().toLowerCase().min(1).max(254).openapi({ example: "admin@example.com" }),
    password: z.string().min(1).max(1024).openapi({ example: "admin-demo-password" }),
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
  })
  .openapi("TokenPair");
