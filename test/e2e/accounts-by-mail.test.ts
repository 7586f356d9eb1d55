import { describe, expect, inject, it } from "vitest";
import { STAND_IN_API_KEY } from "./global-setup";

/**
 * The account flows as a user drives them against `npm start`, with no browser: register, read the verification mail
 * that reached the MailChannels stand-in, verify, forget the password, read the reset mail, reset, sign in.
 */
const baseUrl = inject("baseUrl");
const mailUrl = inject("mailUrl");

type Mail = {
  api_key?: string;
  body: { personalizations: { to: { email: string }[] }[]; subject: string; content: { value: string }[] };
};

function post(path: string, json?: unknown, token?: string) {
  return fetch(`${baseUrl}/api/v1${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-client-id": "e2e-accounts",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
}

/** Waits (bounded) for a mail to that address whose subject matches; the queue consumer sends it within seconds. */
async function mailTo(email: string, subject: RegExp): Promise<Mail> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const mails = (await (await fetch(`${mailUrl}/mails`)).json()) as Mail[];
    const found = mails.find((m) => m.body.personalizations[0]?.to[0]?.email === email && subject.test(m.body.subject));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no mail to ${email} matching ${subject}: ${JSON.stringify(mails)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tokenOf = (mail: Mail) => {
  const token = mail.body.content[0]?.value.match(/^Token: (\S+)$/m)?.[1];
  expect(token).toBeDefined();
  return token!;
};

describe("accounts end to end (npm start, MailChannels stand-in)", () => {
  it("register → verify from the mail → forgot → reset from the mail → sign in", async () => {
    const email = `e2e-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const registered = await post("/auth/register", { email, password: "first password e2e" });
    expect(registered.status).toBe(201);
    expect(registered.headers.get("cache-control")).toBe("private, no-store");
    const pair = (await registered.json()) as { access_token: string; user: { email_verified: boolean } };
    expect(pair.user.email_verified).toBe(false);

    const verification = await mailTo(email, /confirm your email/i);
    expect(verification.api_key).toBe(STAND_IN_API_KEY);
    expect(verification.body.content[0]?.value).toContain(`${baseUrl}/api/v1/auth/verify-email`);
    expect((await post("/auth/verify-email", { token: tokenOf(verification) })).status).toBe(204);
    const me = await fetch(`${baseUrl}/api/v1/auth/me`, { headers: { authorization: `Bearer ${pair.access_token}` } });
    expect(((await me.json()) as { email_verified: boolean }).email_verified).toBe(true);

    const forgot = await post("/auth/password/forgot", { email });
    expect(forgot.status).toBe(202);
    const reset = await mailTo(email, /reset your password/i);
    expect(
      (await post("/auth/password/reset", { token: tokenOf(reset), password: "second password e2e" })).status,
    ).toBe(204);
    // The access token from before the reset is dead; the old password too; the new one signs in.
    const stale = await fetch(`${baseUrl}/api/v1/auth/me`, {
      headers: { authorization: `Bearer ${pair.access_token}` },
    });
    expect(stale.status).toBe(401);
    expect((await post("/auth/login", { email, password: "first password e2e" })).status).toBe(401);
    const login = await post("/auth/login", { email, password: "second password e2e" });
    expect(login.status).toBe(200);
    const body = (await login.json()) as { device_token: string; user: { email_verified: boolean } };
    expect(body.device_token).toEqual(expect.any(String));
    expect(login.headers.get("set-cookie")).toMatch(/^device_token=.*HttpOnly/);
  });
});
