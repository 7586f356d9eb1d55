import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { parse } from "smol-toml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import { parseSettings, type SettingsSource, servingProblems, settings, settingsSchema } from "../../src/lib/settings";
import wranglerToml from "../../wrangler.toml?raw";
import { api, call, createUser } from "../helpers";

/** The settings of `source`, failing the test when they are refused. */
function valid(source: SettingsSource) {
  const result = parseSettings(source);
  if (result instanceof Error) throw result;
  return result;
}

/** The problems that refuse `source` (none: the test fails). */
function problems(source: SettingsSource): string[] {
  const result = parseSettings(source);
  if (!(result instanceof Error)) throw new Error("expected the settings to be refused");
  return result.problems;
}

describe("settings (one zod schema, parsed once per isolate)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("gives wrangler.toml's defaults when nothing is set", () => {
    expect(valid({})).toEqual({
      environment: "development",
      production: false,
      corsOrigins: [],
      allowSignup: true,
      jwtIssuer: "edge-backoffice",
      jwtAudience: "edge-backoffice-api",
      accessTokenTtlSeconds: 900,
      refreshTokenTtlDays: 30,
      loginMaxFailures: 5,
      loginWindowSeconds: 900,
      deviceTokenTtlDays: 180,
      signupMaxPerAddress: 20,
      signupWindowSeconds: 3600,
      accountMailMaxPerHour: 3,
      expiryNoticeMinutes: 15,
      cursorRetentionDays: 30,
      cursorMaxEventsPerSecond: 500,
      cursorMaxEventsBurst: 2000,
      cursorMaxEventsPerEventSecond: 1000,
      cursorMaxEventsPerSession: 500_000,
      cursorIdleMinutes: 30,
      cursorFlushSeconds: 2,
      mailchannelsApiUrl: "https://api.mailchannels.net",
      mailFromEmail: "backoffice@example.com",
      mailFromName: "Edge Backoffice",
      dkimDomain: "",
      dkimSelector: "",
      mailMaxPerRecipientHour: 20,
      mailMaxPerActorHour: 50,
      publicOrigin: null,
      tasksMaxPerUser: 5000,
      noticesMaxPerUserDay: 200,
      notificationRetentionDays: 90,
      viewsMaxPerDay: 500_000,
      serverTimingD1Detail: true,
    });
  });

  it("reads the test environment's [vars] the same way (wrangler.toml's values equal the defaults)", () => {
    const s = settings(env);
    expect(s.corsOrigins).toEqual(["http://localhost:8787", "http://127.0.0.1:8787"]);
    // The tests point MailChannels at a stand-in (vitest.config.ts); every other value is wrangler.toml's.
    const { corsOrigins, mailchannelsApiUrl } = s;
    expect(s).toEqual({ ...valid({}), corsOrigins, mailchannelsApiUrl });
  });

  it("coerces strings: whole numbers, flags, lists, origins", () => {
    expect(
      valid({
        ENVIRONMENT: "production",
        JWT_SECRET: "a-real-production-secret-of-more-than-32-bytes",
        CORS_ORIGINS: " https://a.example , ,https://B.example/ ",
        ALLOW_SIGNUP: "OFF",
        LOGIN_MAX_FAILURES: " 10 ",
        EXPIRY_NOTICE_MINUTES: "0",
        CURSOR_FLUSH_SECONDS: "60",
        MAIL_FROM_NAME: "",
        MAIL_MAX_PER_ACTOR_HOUR: "0",
        DKIM_DOMAIN: " example.com ",
        PUBLIC_ORIGIN: "https://backoffice.example.com",
      }),
    ).toMatchObject({
      production: true,
      corsOrigins: ["https://a.example", "https://b.example"],
      allowSignup: false,
      loginMaxFailures: 10,
      expiryNoticeMinutes: 0,
      cursorFlushSeconds: 60,
      mailFromName: null,
      mailMaxPerActorHour: 0,
      dkimDomain: "example.com",
      publicOrigin: "https://backoffice.example.com/",
    });
    for (const yes of ["true", "1", "yes", "anything"]) expect(valid({ ALLOW_SIGNUP: yes }).allowSignup).toBe(true);
  });

  it("refuses every bad value at once, naming each and why, and never falls back to a default", () => {
    expect(
      problems({
        ACCESS_TOKEN_TTL_SECONDS: "1e3",
        LOGIN_MAX_FAILURES: "lots",
        REFRESH_TOKEN_TTL_DAYS: "3.5",
        LOGIN_WINDOW_SECONDS: "0",
        EXPIRY_NOTICE_MINUTES: "-3",
        CURSOR_RETENTION_DAYS: "0",
        CURSOR_FLUSH_SECONDS: "61",
        CURSOR_MAX_EVENTS_BURST: "999",
        MAIL_MAX_PER_RECIPIENT_HOUR: "-1",
        PUBLIC_ORIGIN: "javascript:alert(1)",
        CORS_ORIGINS: "https://ok.example,*,https://app.example/console",
        JWT_ISSUER: 42,
        SIGNUP_WINDOW_SECONDS: "60",
      }).sort(),
    ).toEqual(
      [
        'ACCESS_TOKEN_TTL_SECONDS is not a whole number from 1: "1e3"',
        'REFRESH_TOKEN_TTL_DAYS is not a whole number from 1: "3.5"',
        'LOGIN_MAX_FAILURES is not a whole number from 1: "lots"',
        'LOGIN_WINDOW_SECONDS is not a whole number from 1: "0"',
        "JWT_ISSUER is not a string",
        'EXPIRY_NOTICE_MINUTES is not a whole number from 0: "-3"',
        'CURSOR_RETENTION_DAYS is not a whole number from 1: "0"',
        'CURSOR_MAX_EVENTS_BURST is not a whole number from 1000: "999"',
        'CURSOR_FLUSH_SECONDS is not a whole number from 1 to 60: "61"',
        'MAIL_MAX_PER_RECIPIENT_HOUR is not a whole number from 0: "-1"',
        'PUBLIC_ORIGIN is not an http(s) origin: "javascript:alert(1)"',
        // An entry that could never equal a browser's Origin header, not dropped in silence.
        'CORS_ORIGINS is not an http(s) origin: "*"',
        'CORS_ORIGINS is not an http(s) origin: "https://app.example/console"',
      ].sort(),
    );
    // A path would be dropped without a word where the value serves as an origin (mail links, the cookie rule).
    expect(problems({ PUBLIC_ORIGIN: "https://app.example/console" })).toEqual([
      'PUBLIC_ORIGIN is not an http(s) origin: "https://app.example/console"',
    ]);
  });

  it("refuses to serve production with a JWT secret that is missing, short or the development default", () => {
    const production = (JWT_SECRET?: string) => servingProblems({ ENVIRONMENT: "production", JWT_SECRET });
    expect(production()).toEqual(["JWT_SECRET is not set"]);
    expect(production("short")).toEqual(["JWT_SECRET is shorter than 32 bytes"]);
    expect(production("dev-only-secret-change-me-0123456789abcdef0123456789")).toEqual([
      "JWT_SECRET is the development default",
    ]);
    expect(production("a-real-production-secret-of-more-than-32-bytes")).toEqual([]);
    // Development runs on the development default on purpose; the secret is never one of the settings.
    expect(servingProblems({ JWT_SECRET: "short" })).toEqual([]);
    expect(settings({ ENVIRONMENT: "production", JWT_SECRET: "short" })).not.toHaveProperty("jwtSecret");
    // A bad setting is a reason too.
    expect(servingProblems({ LOGIN_MAX_FAILURES: "0" })).toEqual([
      'LOGIN_MAX_FAILURES is not a whole number from 1: "0"',
    ]);
  });

  it("parses once per env object and returns a frozen object; a refusal is kept and thrown on every use", () => {
    const parse = vi.spyOn(settingsSchema, "safeParse");
    const source = { LOGIN_MAX_FAILURES: "7" };
    const first = settings(source);
    expect(settings(source)).toBe(first);
    expect(parse).toHaveBeenCalledTimes(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.corsOrigins)).toBe(true);
    expect(() => {
      (first as { loginMaxFailures: number }).loginMaxFailures = 1;
    }).toThrow(TypeError);
    // A modified copy is another object: its own parse.
    const copy = { ...source, LOGIN_MAX_FAILURES: "8" };
    expect(settings(copy).loginMaxFailures).toBe(8);
    expect(first.loginMaxFailures).toBe(7);
    const bad = { LOGIN_MAX_FAILURES: "lots" };
    expect(() => settings(bad)).toThrow('LOGIN_MAX_FAILURES is not a whole number from 1: "lots"');
    expect(() => settings(bad)).toThrow("LOGIN_MAX_FAILURES");
    expect(parse).toHaveBeenCalledTimes(3);
  });

  it("the Worker parses its settings once per isolate, not once per request", async () => {
    const parse = vi.spyOn(settingsSchema, "safeParse");
    // The first request may be this isolate's first use of its env; from then on no request parses again.
    expect((await call("/health/live")).status).toBe(200);
    const before = parse.mock.calls.length;
    const user = await createUser("member");
    for (let i = 0; i < 3; i += 1) {
      expect((await call("/health/live")).status).toBe(200);
      expect((await api("/products?limit=1")).status).toBe(200);
      expect((await api("/tasks?limit=1", { token: user.token })).status).toBe(200);
      expect((await api("/notifications", { token: user.token })).status).toBe(200);
    }
    expect(parse.mock.calls.length).toBe(before);
    // The spy does see a parse when there is one: a copy of the env is another object, parsed on its first request.
    const res = await createApp().fetch(
      new Request("http://localhost/health/live"),
      { ...env },
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect(parse.mock.calls.length).toBe(before + 1);
  });

  it("covers exactly wrangler.toml's [vars], whose values are the schema's defaults and valid in both sections", () => {
    const toml = parse(wranglerToml) as {
      vars: Record<string, string>;
      env: { production: { vars: Record<string, string> } };
    };
    const secrets = ["JWT_SECRET", "SUPERUSER_EMAIL", "SUPERUSER_PASSWORD", "MAILCHANNELS_API_KEY", "DKIM_PRIVATE_KEY"];
    const schemaVars = Object.keys(settingsSchema.in.shape).filter((key) => !secrets.includes(key));
    expect(schemaVars.sort()).toEqual(Object.keys(toml.vars).sort());
    // The top level documents the defaults: every value but the local CORS list is the schema's own default.
    expect({ ...valid(toml.vars), corsOrigins: [] }).toEqual(valid({}));
    const production = valid({
      ...toml.env.production.vars,
      JWT_SECRET: "a-real-production-secret-of-more-than-32-bytes",
    });
    expect(production).toMatchObject({ production: true, allowSignup: false });
  });
});
