import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { accountLink } from "../../src/auth/account-mail";
import { clientKey } from "../../src/auth/client";
import { deviceClaims, isKnownDevice, issueDeviceToken } from "../../src/auth/device";
import { signAccessToken } from "../../src/auth/tokens";
import { UNVERIFIED_ALLOWED_KINDS, unverifiedRecipient } from "../../src/mail/enqueue";
import { openToken, sealToken, unseal, WITHHELD } from "../../src/mail/seal";
import { renderMail } from "../../src/mail/templates";

/** clientKey as a route sees it, for a request with these headers under this environment. */
async function keyFor(headers: Record<string, string>, environment = "development") {
  const app = new Hono<{ Bindings: Env }>();
  app.get("/", async (c) => c.text(await clientKey(c)));
  const res = await app.request("/", { headers }, { ...env, ENVIRONMENT: environment } as Env);
  return res.text();
}

describe("the client key", () => {
  it("is CF-Connecting-IP behind Cloudflare and for any non-loopback address", async () => {
    expect(await keyFor({ "cf-connecting-ip": "203.0.113.5" })).toBe("203.0.113.5");
    expect(await keyFor({ "cf-connecting-ip": "127.0.0.1", "x-client-id": "a" }, "production")).toBe("127.0.0.1");
  });

  it("locally is one key per client (X-Client-Id, else User-Agent), not one for every loopback caller", async () => {
    const a = await keyFor({ "cf-connecting-ip": "127.0.0.1", "x-client-id": "a" });
    const b = await keyFor({ "cf-connecting-ip": "127.0.0.1", "x-client-id": "b" });
    const curl = await keyFor({ "cf-connecting-ip": "::1", "user-agent": "curl/8" });
    expect(new Set([a, b, curl]).size).toBe(3);
    expect(a).toMatch(/^local-[0-9a-f]{16}$/);
    expect(await keyFor({ "x-client-id": "a" })).toBe(a);
  });
});

describe("device tokens", () => {
  it("name their account and its token version, never pass as an access token, and an access token is not one", async () => {
    const user = { id: crypto.randomUUID(), tokenVersion: 3 };
    const token = await issueDeviceToken(env, user);
    const claims = await deviceClaims(env, token);
    expect(claims).toEqual({ userId: user.id, version: 3 });
    expect(isKnownDevice(claims, user)).toBe(true);
    // Another account, or the same one after its version moved on (reset, logout-all, deletion): not a known device.
    expect(isKnownDevice(claims, { id: crypto.randomUUID(), tokenVersion: 3 })).toBe(false);
    expect(isKnownDevice(claims, { ...user, tokenVersion: 4 })).toBe(false);
    expect(isKnownDevice(claims, undefined)).toBe(false);
    expect(await deviceClaims(env, `${token}x`)).toBeNull();
    expect(await deviceClaims(env, undefined)).toBeNull();
    const access = await signAccessToken(env, { id: user.id, role: "member" });
    expect(await deviceClaims(env, access)).toBeNull();
    expect(await deviceClaims({ ...env, JWT_SECRET: `${env.JWT_SECRET}-rotated` }, token)).toBeNull();
  });
});

describe("account mails", () => {
  it("link to the console page with the token in the fragment, as a link and nothing else (no curl line)", () => {
    const env2 = { PUBLIC_ORIGIN: "https://app.example" };
    expect(accountLink(env2, "password_reset", "tok")).toBe("https://app.example/reset-password#token=tok");
    expect(accountLink(env2, "verify_email", "tok")).toBe("https://app.example/verify-email#token=tok");
    expect(accountLink({}, "verify_email", "tok")).toBe("/verify-email#token=tok");
    const mail = renderMail({
      kind: "account.password-reset",
      link: accountLink(env2, "password_reset", WITHHELD),
      expiresAt: 30 * 60 * 1000,
    });
    expect(mail.html).toContain(`<a href="https://app.example/reset-password#token=${WITHHELD}">`);
    expect(mail.text).not.toMatch(/curl|Token:/);
    // What the consumer sends: the placeholder replaced, in both bodies.
    const sent = unseal(mail, "the-real-token");
    expect(sent.text).toContain("https://app.example/reset-password#token=the-real-token");
    expect(sent.html).toContain("#token=the-real-token");
    expect(sent.html).not.toContain(WITHHELD);
  });

  it("seal the token for the consumer: it opens with this JWT_SECRET only", async () => {
    const sealed = await sealToken(env, "the-real-token");
    expect(sealed).not.toContain("the-real-token");
    expect(await sealToken(env, "the-real-token")).not.toBe(sealed);
    expect(await openToken(env, sealed)).toBe("the-real-token");
    expect(await openToken({ ...env, JWT_SECRET: `${env.JWT_SECRET}-rotated` } as Env, sealed)).toBeNull();
    expect(await openToken(env, `${sealed.slice(0, -2)}AA`)).toBeNull();
  });

  it("only verification and reset mail may go to an unverified address", () => {
    expect(UNVERIFIED_ALLOWED_KINDS).toEqual(["account.verify-email", "account.password-reset"]);
    const base = { status: "queued", suppressedReason: null } as const;
    expect(unverifiedRecipient("a@example.com", "account.verify-email", base)).toBe(base);
    expect(unverifiedRecipient("a@example.com", "account.password-reset", base)).toBe(base);
    expect(unverifiedRecipient("a@example.com", "task.expired", base)).not.toBe(base);
    expect(unverifiedRecipient("a@example.com", "product.changed", base)).not.toBe(base);
  });
});
