/** The JWT secret that ships in .dev.vars.example; never acceptable in production. */
export const DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef0123456789";
export const MIN_SECRET_BYTES = 32;

/**
 * What makes this environment unsafe to serve; empty when it is fine. Only production is strict: local runs and
 * tests use the development defaults on purpose.
 */
export function configProblems(env: Env): string[] {
  if (env.ENVIRONMENT !== "production") return [];
  const problems: string[] = [];
  const secret = env.JWT_SECRET;
  if (!secret) problems.push("JWT_SECRET is not set");
  else if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES)
    problems.push(`JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes`);
  else if (secret === DEV_JWT_SECRET) problems.push("JWT_SECRET is the development default");
  return problems;
}

/** A whole-number setting; anything else (empty, "30abc", "1e3") falls back rather than being half-read. */
export function intVar(value: string | undefined, fallback: number): number {
  const trimmed = (value ?? "").trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : fallback;
}

export function boolVar(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === "") return fallback;
  return !["false", "0", "no", "off"].includes(value.trim().toLowerCase());
}
