import { settings } from "./settings";

/** The JWT secret that ships in .dev.vars.example; never acceptable in production. */
export const DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef0123456789";
export const MIN_SECRET_BYTES = 32;

/**
 * What makes this environment unsafe to serve; empty when it is fine. Only production is strict: local runs and
 * tests use the development defaults on purpose. The other settings are read through settings() (src/lib/settings.ts),
 * where a bad value falls back to its default instead.
 */
export function configProblems(env: Env): string[] {
  if (!settings(env).production) return [];
  const problems: string[] = [];
  const secret = env.JWT_SECRET;
  if (!secret) problems.push("JWT_SECRET is not set");
  else if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES)
    problems.push(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes`);
  else if (secret === DEV_JWT_SECRET) problems.push("JWT_SECRET is the development default");
  return problems;
}
