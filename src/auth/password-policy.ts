import { ApiError } from "../lib/errors";

/** The password policy across fields, in one place: a password may not be the account's email or username. */
export const PASSWORD_IS_IDENTITY = "The password must not equal the email or username.";

export function isIdentityPassword(
  password: string | undefined,
  identity: { email?: string | null; username?: string | null },
): boolean {
  const lower = password?.toLowerCase();
  return lower !== undefined && lower !== "" && (lower === identity.email || lower === identity.username);
}

/** 422 naming `path` (the body field), in the same shape as the body validator's, when the policy refuses it. */
export function assertPasswordAllowed(
  password: string | undefined,
  identity: { email?: string | null; username?: string | null },
  path = "password",
): void {
  if (isIdentityPassword(password, identity)) {
    throw new ApiError("validation_failed", "The request body is invalid.", {
      errors: [{ path, message: PASSWORD_IS_IDENTITY }],
    });
  }
}
