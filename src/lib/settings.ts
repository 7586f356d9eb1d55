import { z } from "zod";
import { MAX_EVENTS_PER_BATCH } from "../cursor/protocol";

/**
 * Every setting the Worker reads, in one zod schema whose output is the typed settings object: each `[vars]` key of
 * wrangler.toml (strings) is coerced, given the default wrangler.toml documents, and comes out under its camelCase
 * name (`LOGIN_MAX_FAILURES` → `loginMaxFailures`), plus `production`. Secrets are not settings: they stay in `env`,
 * read where they are used.
 *
 * An unset or empty value is the default. A bad value (`LOGIN_MAX_FAILURES = "lots"`, `CURSOR_FLUSH_SECONDS = "0"`,
 * `PUBLIC_ORIGIN = "ftp://x"`) is refused, never replaced: settings() throws a SettingsError naming every bad value,
 * and the Worker answers 503 to every request (see servingProblems; the reasons go to the log) until it is fixed.
 */

const WHOLE = /^-?\d+$/;

/** A whole number within [min, max] ("30", " 2 "); "", unset: the default; "30abc", "1e3", "3.5" are refused. */
function whole(fallback: number, min: number, max = Number.MAX_SAFE_INTEGER) {
  return z
    .string()
    .optional()
    .transform((value, ctx) => {
      const trimmed = (value ?? "").trim();
      if (trimmed === "") return fallback;
      const n = Number(trimmed);
      if (!WHOLE.test(trimmed) || n < min || n > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `from ${min}` : `from ${min} to ${max}`;
        ctx.addIssue({ code: "custom", message: `is not a whole number ${range}: ${JSON.stringify(value)}` });
        return z.NEVER;
      }
      return n;
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

/**
 * An http(s) origin and nothing after it (a trailing `/` is fine), or null: a path, query or user part would be
 * dropped without a word where the value is used as an origin (links, the console's cookie rule, CORS).
 */
function parseOrigin(text: string): URL | null {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {}
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) return null;
  if (url.pathname !== "/" || url.search || url.hash || url.username || url.password) return null;
  return url;
}

const notAnOrigin = (value: string) => `is not an http(s) origin: ${JSON.stringify(value)}`;

/** An http(s) origin, normalised (`new URL(...).href`), or null when empty. */
const origin = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const trimmed = (value ?? "").trim();
    if (!trimmed) return null;
    const url = parseOrigin(trimmed);
    if (!url) {
      ctx.addIssue({ code: "custom", message: notAnOrigin(trimmed) });
      return z.NEVER;
    }
    return url.href;
  });

/**
 * Comma-separated origins, each as a browser sends it in `Origin` (`https://app.example`: lower-case host, no
 * trailing `/`), blanks dropped. An entry that is no origin (`*`, one with a path) would never match: it is refused.
 */
const origins = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const list: string[] = [];
    let refused = false;
    for (const entry of (value ?? "").split(",").map((s) => s.trim())) {
      if (!entry) continue;
      const url = parseOrigin(entry);
      if (url) list.push(url.origin);
      else {
        ctx.addIssue({ code: "custom", message: notAnOrigin(entry) });
        refused = true;
      }
    }
    return refused ? z.NEVER : Object.freeze(list);
  });

/** The JWT secret that ships in .dev.vars.example; never acceptable in production. */
const DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef0123456789";
const MIN_SECRET_BYTES = 32;

/** The `[vars]` of wrangler.toml, each with its default: the one list of settings. */
const vars = {
  ENVIRONMENT: text("development"),
  CORS_ORIGINS: origins,
  ALLOW_SIGNUP: flag(true),
  JWT_ISSUER: text("edge-backoffice"),
  JWT_AUDIENCE: text("edge-backoffice-api"),
  ACCESS_TOKEN_TTL_SECONDS: whole(900, 1),
  REFRESH_TOKEN_TTL_DAYS: whole(30, 1),
  LOGIN_MAX_FAILURES: whole(5, 1),
  LOGIN_WINDOW_SECONDS: whole(900, 1),
  DEVICE_TOKEN_TTL_DAYS: whole(180, 1),
  SIGNUP_MAX_PER_ADDRESS: whole(20, 1),
  SIGNUP_WINDOW_SECONDS: whole(3600, 1),
  ACCOUNT_MAIL_MAX_PER_HOUR: whole(3, 1),
  EXPIRY_NOTICE_MINUTES: whole(15, 0),
  CURSOR_RETENTION_DAYS: whole(30, 1),
  CURSOR_MAX_EVENTS_PER_SECOND: whole(500, 1),
  // At least the largest batch: a smaller burst could never admit a full batch (its wait would be infinite).
  CURSOR_MAX_EVENTS_BURST: whole(2_000, MAX_EVENTS_PER_BATCH),
  CURSOR_MAX_EVENTS_PER_EVENT_SECOND: whole(1_000, 1),
  CURSOR_MAX_EVENTS_PER_SESSION: whole(500_000, 1),
  CURSOR_IDLE_MINUTES: whole(30, 1),
  CURSOR_FLUSH_SECONDS: whole(2, 1, 60),
  MAILCHANNELS_API_URL: text("https://api.mailchannels.net"),
  MAIL_FROM_EMAIL: text("backoffice@example.com"),
  /** null when empty: the mail then has no display name. */
  MAIL_FROM_NAME: text("Edge Backoffice").transform((value) => value || null),
  DKIM_DOMAIN: trimmed(),
  DKIM_SELECTOR: trimmed(),
  MAIL_MAX_PER_RECIPIENT_HOUR: whole(20, 0),
  MAIL_MAX_PER_ACTOR_HOUR: whole(50, 0),
  PUBLIC_ORIGIN: origin,
  TASKS_MAX_PER_USER: whole(5_000, 1),
  NOTICES_MAX_PER_USER_DAY: whole(200, 1),
  NOTIFICATION_RETENTION_DAYS: whole(90, 1),
  VIEWS_MAX_PER_DAY: whole(500_000, 1),
  SERVER_TIMING_D1_DETAIL: flag(true),
};

type CamelCase<S extends string> = S extends `${infer Head}_${infer Tail}`
  ? `${Lowercase<Head>}${Capitalize<CamelCase<Tail>>}`
  : Lowercase<S>;
type CamelKeys<T> = { readonly [K in keyof T & string as CamelCase<K>]: T[K] };

const camelCase = (name: string) =>
  name.toLowerCase().replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** `{ LOGIN_MAX_FAILURES: 5 }` → `{ loginMaxFailures: 5 }`, typed by the same rule. */
function camelKeys<T extends Record<string, unknown>>(values: T): CamelKeys<T> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [camelCase(name), value])) as CamelKeys<T>;
}

export const settingsSchema = z
  .object(vars)
  .transform((values) => Object.freeze({ ...camelKeys(values), production: values.ENVIRONMENT === "production" }));

/** The typed settings: numbers in the unit their name says, lists as frozen arrays, secrets excluded. Frozen. */
export type Settings = z.output<typeof settingsSchema>;

/** What settings() accepts: the Worker's env, or any part of it (tests pass a few keys). */
export type SettingsSource = Partial<Record<keyof typeof vars | "JWT_SECRET", unknown>>;

/** Settings that cannot be served: every bad value, as `NAME what is wrong with it`. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid settings: ${problems.join("; ")}`);
    this.name = "SettingsError";
  }
}

/** The settings of `env`, or a SettingsError naming every bad value. Not cached: settings() is the cached one. */
export function parseSettings(env: SettingsSource): Settings | SettingsError {
  const result = settingsSchema.safeParse(env);
  if (result.success) return result.data;
  // A non-string under a setting's name (a binding, a number in a test) is refused like any bad value.
  return new SettingsError(
    result.error.issues.map(
      (issue) => `${issue.path.join(".")} ${issue.code === "custom" ? issue.message : "is not a string"}`,
    ),
  );
}

/**
 * Why production must not serve with this JWT secret (null: it may). Only production is strict: local runs and tests
 * use the development default on purpose.
 */
function unsafeSecret(env: SettingsSource, production: boolean): string | null {
  if (!production) return null;
  const secret = env.JWT_SECRET;
  if (typeof secret !== "string" || !secret) return "JWT_SECRET is not set";
  if (new TextEncoder().encode(secret).length < MIN_SECRET_BYTES) {
    return `JWT_SECRET is shorter than ${MIN_SECRET_BYTES} bytes`;
  }
  if (secret === DEV_JWT_SECRET) return "JWT_SECRET is the development default";
  return null;
}

/** One isolate's reading of its env: the settings (or why not), and why it must not serve (empty: it may). */
type Reading = { settings: Settings | SettingsError; problems: readonly string[] };

const readings = new WeakMap<object, Reading>();
const NO_ENV: SettingsSource = Object.freeze({});

/**
 * Parsed on the env's first use and kept for the env object: the Worker's env is one object for the isolate's life,
 * so an isolate parses once (a test that passes a modified copy gets a parse of its own).
 */
function reading(env: SettingsSource): Reading {
  // No env at all (an app.request() without bindings) reads as nothing set: the defaults.
  const source = env ?? NO_ENV;
  let found = readings.get(source);
  if (!found) {
    const parsed = parseSettings(source);
    const secret = parsed instanceof SettingsError ? null : unsafeSecret(source, parsed.production);
    const problems = parsed instanceof SettingsError ? parsed.problems : secret ? [secret] : [];
    found = { settings: parsed, problems: Object.freeze(problems) };
    readings.set(source, found);
  }
  return found;
}

/** The settings of this env, parsed once per isolate. Throws the SettingsError, every time, when a value is bad. */
export function settings(env: SettingsSource): Settings {
  const { settings } = reading(env);
  if (settings instanceof SettingsError) throw settings;
  return settings;
}

/**
 * Why the Worker must refuse to serve with this env: every bad setting, or production's JWT secret missing, shorter
 * than MIN_SECRET_BYTES or the development default. Empty when it may serve. Known from the same single parse.
 */
export function servingProblems(env: SettingsSource): readonly string[] {
  return reading(env).problems;
}
