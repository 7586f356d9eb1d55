import { z } from "zod";
import { log } from "./log";

/**
 * Every setting the Worker reads, parsed once per isolate by one zod schema (issue 16). The input is the Worker's
 * `env`: the `[vars]` of wrangler.toml (strings) and the secrets. The schema coerces the strings to numbers, booleans
 * and lists and applies the defaults that wrangler.toml documents. Secrets are not settings: they stay in `env`,
 * read where they are used.
 *
 * A bad value (`LOGIN_MAX_FAILURES = "lots"`, `CURSOR_FLUSH_SECONDS = "0"`, `PUBLIC_ORIGIN = "ftp://x"`) never fails a
 * request: that setting falls back to its default and one warning per setting is logged per isolate. An unset or
 * empty value is the default, silently. Production safety (the JWT secret) is configProblems' job (src/lib/config.ts),
 * which refuses to serve rather than fall back.
 */

const WHOLE = /^-?\d+$/;

/** A whole number ("30", " -2 "); "", unset, "30abc", "1e3", "3.5" are not (intVar's rule, kept). */
function whole(fallback: number, valid: (n: number) => boolean = () => true, map: (n: number) => number = (n) => n) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const trimmed = (value ?? "").trim();
      if (trimmed === "") return map(fallback);
      const n = Number(trimmed);
      if (!WHOLE.test(trimmed) || !valid(n)) {
        ctx.addIssue({ code: "custom", message: `not a valid whole number: ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return map(n);
    });
}

/** "false", "0", "no", "off" (any case) are false; any other non-empty value is true; empty or unset: the default. */
function flag(fallback: boolean) {
  return z
    .string()
    .optional()
    .transform((value) =>
      value === undefined || value === ""
        ? fallback
        : !["false", "0", "no", "off"].includes(value.trim().toLowerCase()),
    );
}

function text(fallback: string) {
  return z
    .string()
    .optional()
    .transform((value) => value ?? fallback);
}

function trimmed() {
  return z
    .string()
    .optional()
    .transform((value) => (value ?? "").trim());
}

/** An http(s) origin, or null when empty. */
const origin = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const trimmed = (value ?? "").trim();
    if (!trimmed) return null;
    let url: URL | null = null;
    try {
      url = new URL(trimmed);
    } catch {}
    if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
      ctx.addIssue({ code: "custom", message: `not an http(s) origin: ${JSON.stringify(value)}` });
      return z.NEVER;
    }
    return url.href;
  });

const atLeast = (min: number) => (n: number) => n >= min;
const clampAtLeast = (min: number) => (n: number) => Math.max(min, n);

export const settingsSchema = z.object({
  ENVIRONMENT: text("development"),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform((value) =>
      (value ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ALLOW_SIGNUP: flag(true),
  JWT_ISSUER: text("edge-backoffice"),
  JWT_AUDIENCE: text("edge-backoffice-api"),
  ACCESS_TOKEN_TTL_SECONDS: whole(900, atLeast(1)),
  // The lifetimes and limits below were always clamped to at least 1 (0 means 1), not refused.
  REFRESH_TOKEN_TTL_DAYS: whole(30, undefined, clampAtLeast(1)),
  LOGIN_MAX_FAILURES: whole(5, undefined, clampAtLeast(1)),
  LOGIN_WINDOW_SECONDS: whole(900, undefined, clampAtLeast(1)),
  DEVICE_TOKEN_TTL_DAYS: whole(180, undefined, clampAtLeast(1)),
  SIGNUP_MAX_PER_ADDRESS: whole(20, undefined, clampAtLeast(1)),
  SIGNUP_WINDOW_SECONDS: whole(3600, undefined, clampAtLeast(1)),
  ACCOUNT_MAIL_MAX_PER_HOUR: whole(3, undefined, clampAtLeast(1)),
  EXPIRY_NOTICE_MINUTES: whole(15, undefined, clampAtLeast(0)),
  CURSOR_RETENTION_DAYS: whole(30, atLeast(1)),
  CURSOR_MAX_EVENTS_PER_SECOND: whole(500, atLeast(1)),
  CURSOR_MAX_EVENTS_BURST: whole(2_000, atLeast(1)),
  CURSOR_MAX_EVENTS_PER_EVENT_SECOND: whole(1_000, atLeast(1)),
  CURSOR_MAX_EVENTS_PER_SESSION: whole(500_000, atLeast(1)),
  CURSOR_IDLE_MINUTES: whole(30, atLeast(1)),
  CURSOR_FLUSH_SECONDS: whole(2, atLeast(1), (n) => Math.min(n, 60)),
  MAILCHANNELS_API_URL: text("https://api.mailchannels.net"),
  MAIL_FROM_EMAIL: text("backoffice@example.com"),
  MAIL_FROM_NAME: text("Edge Backoffice"),
  DKIM_DOMAIN: trimmed(),
  DKIM_SELECTOR: trimmed(),
  MAIL_MAX_PER_RECIPIENT_HOUR: whole(20, atLeast(0)),
  MAIL_MAX_PER_ACTOR_HOUR: whole(50, atLeast(0)),
  PUBLIC_ORIGIN: origin,
  TASKS_MAX_PER_USER: whole(5_000, atLeast(1)),
  NOTICES_MAX_PER_USER_DAY: whole(200, atLeast(1)),
  NOTIFICATION_RETENTION_DAYS: whole(90, atLeast(1)),
  VIEWS_MAX_PER_DAY: whole(500_000, atLeast(1)),
  // Secrets: only whether they are set.
});

type Parsed = z.output<typeof settingsSchema>;

/** The typed settings: numbers in the unit their name says, lists as arrays, secrets excluded. */
export type Settings = Readonly<{
  environment: string;
  production: boolean;
  corsOrigins: readonly string[];
  allowSignup: boolean;
  jwtIssuer: string;
  jwtAudience: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  loginMaxFailures: number;
  loginWindowSeconds: number;
  deviceTokenTtlDays: number;
  signupMaxPerAddress: number;
  signupWindowSeconds: number;
  accountMailMaxPerHour: number;
  expiryNoticeMinutes: number;
  cursorRetentionDays: number;
  cursorMaxEventsPerSecond: number;
  cursorMaxEventsBurst: number;
  cursorMaxEventsPerEventSecond: number;
  cursorMaxEventsPerSession: number;
  cursorIdleMinutes: number;
  cursorFlushSeconds: number;
  mailchannelsApiUrl: string;
  mailFromEmail: string;
  /** null when MAIL_FROM_NAME is empty. */
  mailFromName: string | null;
  dkimDomain: string;
  dkimSelector: string;
  mailMaxPerRecipientHour: number;
  mailMaxPerActorHour: number;
  /** The normalised PUBLIC_ORIGIN (`new URL(...).href`), or null when empty. */
  publicOrigin: string | null;
  tasksMaxPerUser: number;
  noticesMaxPerUserDay: number;
  notificationRetentionDays: number;
  viewsMaxPerDay: number;
}>;

function shape(p: Parsed): Settings {
  return Object.freeze({
    environment: p.ENVIRONMENT,
    production: p.ENVIRONMENT === "production",
    corsOrigins: Object.freeze(p.CORS_ORIGINS),
    allowSignup: p.ALLOW_SIGNUP,
    jwtIssuer: p.JWT_ISSUER,
    jwtAudience: p.JWT_AUDIENCE,
    accessTokenTtlSeconds: p.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: p.REFRESH_TOKEN_TTL_DAYS,
    loginMaxFailures: p.LOGIN_MAX_FAILURES,
    loginWindowSeconds: p.LOGIN_WINDOW_SECONDS,
    deviceTokenTtlDays: p.DEVICE_TOKEN_TTL_DAYS,
    signupMaxPerAddress: p.SIGNUP_MAX_PER_ADDRESS,
    signupWindowSeconds: p.SIGNUP_WINDOW_SECONDS,
    accountMailMaxPerHour: p.ACCOUNT_MAIL_MAX_PER_HOUR,
    expiryNoticeMinutes: p.EXPIRY_NOTICE_MINUTES,
    cursorRetentionDays: p.CURSOR_RETENTION_DAYS,
    cursorMaxEventsPerSecond: p.CURSOR_MAX_EVENTS_PER_SECOND,
    cursorMaxEventsBurst: p.CURSOR_MAX_EVENTS_BURST,
    cursorMaxEventsPerEventSecond: p.CURSOR_MAX_EVENTS_PER_EVENT_SECOND,
    cursorMaxEventsPerSession: p.CURSOR_MAX_EVENTS_PER_SESSION,
    cursorIdleMinutes: p.CURSOR_IDLE_MINUTES,
    cursorFlushSeconds: p.CURSOR_FLUSH_SECONDS,
    mailchannelsApiUrl: p.MAILCHANNELS_API_URL,
    mailFromEmail: p.MAIL_FROM_EMAIL,
    mailFromName: p.MAIL_FROM_NAME || null,
    dkimDomain: p.DKIM_DOMAIN,
    dkimSelector: p.DKIM_SELECTOR,
    mailMaxPerRecipientHour: p.MAIL_MAX_PER_RECIPIENT_HOUR,
    mailMaxPerActorHour: p.MAIL_MAX_PER_ACTOR_HOUR,
    publicOrigin: p.PUBLIC_ORIGIN,
    tasksMaxPerUser: p.TASKS_MAX_PER_USER,
    noticesMaxPerUserDay: p.NOTICES_MAX_PER_USER_DAY,
    notificationRetentionDays: p.NOTIFICATION_RETENTION_DAYS,
    viewsMaxPerDay: p.VIEWS_MAX_PER_DAY,
  });
}

/** What settings() accepts: the Worker's env, or any part of it (tests pass a few keys). */
export type SettingsSource = Partial<Record<keyof z.input<typeof settingsSchema>, unknown>>;

const KEYS = Object.keys(settingsSchema.shape) as (keyof typeof settingsSchema.shape)[];
const cache = new WeakMap<object, Settings>();
const warned = new Set<string>();
const NO_ENV: SettingsSource = Object.freeze({});

/** Parse without the cache; bad values fall back to their defaults and are returned as `rejected`. */
export function parseSettings(env: SettingsSource): { settings: Settings; rejected: string[] } {
  const source = env as Record<string, unknown>;
  const input: Record<string, unknown> = {};
  // Only strings are settings; a non-string (a binding under a setting's name, a number in a test) is a bad value.
  const rejected = new Set<string>();
  for (const key of KEYS) {
    const value = source[key];
    if (value === undefined || typeof value === "string") input[key] = value;
    else rejected.add(key);
  }
  let result = settingsSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path[0];
      if (typeof key === "string") {
        rejected.add(key);
        input[key] = undefined;
      }
    }
    // Unset is always valid (the default), so this second parse succeeds.
    result = settingsSchema.safeParse(input);
    if (!result.success) throw result.error;
  }
  return { settings: shape(result.data), rejected: [...rejected].sort() };
}

/**
 * The settings of this env, parsed on first use and then served from a cache keyed by the env object (the Worker's
 * env is one object per isolate; a test passing a modified copy gets its own parse). Frozen.
 */
export function settings(env: SettingsSource): Settings {
  // No env at all (an app.request() without bindings) reads as nothing set: the defaults.
  env ??= NO_ENV;
  let cached = cache.get(env);
  if (!cached) {
    const parsed = parseSettings(env);
    cached = parsed.settings;
    cache.set(env, cached);
    for (const key of parsed.rejected) {
      if (warned.has(key)) continue;
      warned.add(key);
      log("warn", "setting has an invalid value; using its default", { setting: key });
    }
  }
  return cached;
}
