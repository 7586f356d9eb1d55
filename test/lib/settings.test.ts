import { env } from "cloudflare:test";
import { parse } from "smol-toml";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseSettings, settings, settingsSchema } from "../../src/lib/settings";
import wranglerToml from "../../wrangler.toml?raw";

describe("settings (one zod schema, parsed once per env object)", () => {
  afterEach(() => vi.restoreAllMocks());

  it("gives wrangler.toml's defaults when nothing is set", () => {
    const { settings: s, rejected } = parseSettings({});
    expect(rejected).toEqual([]);
    expect(s).toMatchObject({
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
    });
  });

  it("reads the test environment's [vars] the same way (wrangler.toml's values equal the defaults)", () => {
    const s = settings(env);
    expect(s.corsOrigins).toEqual(["http://localhost:8787", "http://127.0.0.1:8787"]);
    // The tests point MailChannels at a stand-in (vitest.config.ts); every other value is wrangler.toml's.
    const { corsOrigins, mailchannelsApiUrl } = s;
    expect(s).toEqual({ ...parseSettings({}).settings, corsOrigins, mailchannelsApiUrl });
  });

  it("coerces strings: whole numbers, flags, lists, origins", () => {
    const { settings: s, rejected } = parseSettings({
      ENVIRONMENT: "production",
      CORS_ORIGINS: " https://a.example , ,https://b.example ",
      ALLOW_SIGNUP: "OFF",
      LOGIN_MAX_FAILURES: " 10 ",
      LOGIN_WINDOW_SECONDS: "0",
      EXPIRY_NOTICE_MINUTES: "-3",
      CURSOR_FLUSH_SECONDS: "600",
      MAIL_FROM_NAME: "",
      MAIL_MAX_PER_ACTOR_HOUR: "0",
      DKIM_DOMAIN: " example.com ",
      PUBLIC_ORIGIN: "https://backoffice.example.com",
    });
    expect(rejected).toEqual([]);
    expect(s).toMatchObject({
      production: true,
      corsOrigins: ["https://a.example", "https://b.example"],
      allowSignup: false,
      loginMaxFailures: 10,
      loginWindowSeconds: 1, // clamped, as before
      expiryNoticeMinutes: 0, // clamped, as before
      cursorFlushSeconds: 60, // at most a minute
      mailFromName: null,
      mailMaxPerActorHour: 0,
      dkimDomain: "example.com",
      publicOrigin: "https://backoffice.example.com/",
    });
    for (const yes of ["true", "1", "yes", "anything"])
      expect(parseSettings({ ALLOW_SIGNUP: yes }).settings.allowSignup).toBe(true);
  });

  it("falls back to the default for each bad value, keeps the good ones, and names the bad ones", () => {
    const { settings: s, rejected } = parseSettings({
      ACCESS_TOKEN_TTL_SECONDS: "1e3",
      LOGIN_MAX_FAILURES: "lots",
      REFRESH_TOKEN_TTL_DAYS: "3.5",
      CURSOR_RETENTION_DAYS: "0",
      CURSOR_MAX_EVENTS_BURST: "30abc",
      MAIL_MAX_PER_RECIPIENT_HOUR: "-1",
      PUBLIC_ORIGIN: "javascript:alert(1)",
      LOGIN_WINDOW_SECONDS: "60",
      JWT_ISSUER: 42,
    });
    expect(rejected).toEqual([
      "ACCESS_TOKEN_TTL_SECONDS",
      "CURSOR_MAX_EVENTS_BURST",
      "CURSOR_RETENTION_DAYS",
      "JWT_ISSUER",
      "LOGIN_MAX_FAILURES",
      "MAIL_MAX_PER_RECIPIENT_HOUR",
      "PUBLIC_ORIGIN",
      "REFRESH_TOKEN_TTL_DAYS",
    ]);
    expect(s).toMatchObject({
      accessTokenTtlSeconds: 900,
      loginMaxFailures: 5,
      refreshTokenTtlDays: 30,
      cursorRetentionDays: 30,
      cursorMaxEventsBurst: 2000,
      mailMaxPerRecipientHour: 20,
      publicOrigin: null,
      jwtIssuer: "edge-backoffice",
      loginWindowSeconds: 60,
    });
  });

  it("parses once per env object, returns a frozen object, and warns once per bad setting per isolate", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const source = { LOGIN_MAX_FAILURES: "7", SIGNUP_MAX_PER_ADDRESS: "not-a-number-once-per-isolate" };
    const first = settings(source);
    expect(settings(source)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.corsOrigins)).toBe(true);
    expect(() => {
      (first as { loginMaxFailures: number }).loginMaxFailures = 1;
    }).toThrow(TypeError);
    // A modified copy is another object: its own parse.
    const copy = { ...source, LOGIN_MAX_FAILURES: "8" };
    expect(settings(copy)).not.toBe(first);
    expect(settings(copy).loginMaxFailures).toBe(8);
    expect(first.loginMaxFailures).toBe(7);
    const warnings = warn.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(warnings).toEqual([expect.objectContaining({ level: "warn", setting: "SIGNUP_MAX_PER_ADDRESS" })]);
  });

  it("covers exactly wrangler.toml's [vars], whose values are the schema's defaults and valid in both sections", () => {
    const toml = parse(wranglerToml) as {
      vars: Record<string, string>;
      env: { production: { vars: Record<string, string> } };
    };
    const secrets = ["JWT_SECRET", "SUPERUSER_EMAIL", "SUPERUSER_PASSWORD", "MAILCHANNELS_API_KEY", "DKIM_PRIVATE_KEY"];
    const schemaVars = Object.keys(settingsSchema.shape).filter((key) => !secrets.includes(key));
    expect(schemaVars.sort()).toEqual(Object.keys(toml.vars).sort());
    const local = parseSettings(toml.vars);
    expect(local.rejected).toEqual([]);
    // The top level documents the defaults: every value but the local CORS list is the schema's own default.
    expect({ ...local.settings, corsOrigins: [] }).toEqual(parseSettings({}).settings);
    const production = parseSettings(toml.env.production.vars);
    expect(production.rejected).toEqual([]);
    expect(production.settings).toMatchObject({ production: true, allowSignup: false });
  });
});
