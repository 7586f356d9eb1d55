import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import {
  ACCESS_TOKEN_TYPE,
  generateOpaqueToken,
  sha256Hex,
  signAccessToken,
  signJwt,
  verifyAccessToken,
} from "../../src/auth/tokens";
import { ApiError } from "../../src/lib/errors";

const user = { id: "00000000-0000-4000-8000-000000000001", role: "member" as const };
const b64 = (value: unknown) =>
  btoa(JSON.stringify(value)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

async function rejection(token: string) {
  const error = await verifyAccessToken(env, token).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(401);
  return error as ApiError;
}

describe("access tokens", () => {
  it("carry the documented header and claims, 15 minutes", async () => {
    const token = await signAccessToken(env, user);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: ACCESS_TOKEN_TYPE });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: user.id, role: "member", iss: env.JWT_ISSUER, aud: env.JWT_AUDIENCE });
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(decodeJwt(await signAccessToken(env, user)).jti).not.toBe(claims.jti);
    expect(await verifyAccessToken(env, token)).toEqual({
      userId: user.id,
      role: "member",
      version: 0,
      jti: claims.jti,
      sessionId: null,
    });
    // A token of a sign-in names it (`sid`), so ending that sign-in ends the token.
    const sid = crypto.randomUUID();
    expect((await verifyAccessToken(env, await signAccessToken(env, user, undefined, sid))).sessionId).toBe(sid);
  });

  it("the secret is at least 256 bits in tests too", () => {
    expect(new TextEncoder().encode(env.JWT_SECRET).length).toBeGreaterThanOrEqual(32);
  });
});

describe("tampered access tokens are 401", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({
    sub: user.id,
    role: "member",
    iss: env.JWT_ISSUER,
    aud: env.JWT_AUDIENCE,
    iat: now(),
    exp: now() + 600,
    jti: crypto.randomUUID(),
  });

  it("alg none", async () => {
    await rejection(`${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims())}.`);
  });

  it("signed with a foreign key", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .sign(new TextEncoder().encode("not-our-secret-0123456789abcdef0123456789"));
    await rejection(token);
  });

  it("another algorithm with our key (HS384)", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS384", typ: "at+jwt" })
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    await rejection(token);
  });

  it("wrong issuer", async () => {
    const token = await signJwt(
      { ...env, JWT_ISSUER: "evil" },
      { typ: "at+jwt", subject: user.id, ttlSeconds: 60, claims: { role: "member" } },
    );
    await rejection(token);
  });

  it("wrong audience", async () => {
    const token = await signJwt(env, {
      typ: "at+jwt",
      subject: user.id,
      ttlSeconds: 60,
      audience: "some-other-api",
      claims: { role: "member" },
    });
    await rejection(token);
  });

  it("wrong typ (a plain JWT, or none)", async () => {
    await rejection(await signJwt(env, { typ: "JWT", subject: user.id, ttlSeconds: 60, claims: { role: "member" } }));
    const untyped = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    await rejection(untyped);
  });

  it("expired (beyond the 5 s clock tolerance), with a detail that says so", async () => {
    const error = await rejection(await signAccessToken(env, user, Date.now() - 901_000 - 6_000));
    expect(error.detail).toBe("The token has expired.");
  });

  it("issued in the future (not yet valid), even with a valid signature and exp", async () => {
    const error = await rejection(await signAccessToken(env, user, Date.now() + 60_000));
    expect(error.detail).toBe("The token is invalid.");
    // Within the clock tolerance it is still accepted.
    await expect(verifyAccessToken(env, await signAccessToken(env, user, Date.now() + 2_000))).resolves.toMatchObject({
      userId: user.id,
    });
  });

  it("missing a required claim (role, jti)", async () => {
    await rejection(await signJwt(env, { typ: "at+jwt", subject: user.id, ttlSeconds: 60 }));
    const noJti = await new SignJWT({ role: "member" })
      .setProtectedHeader({ alg: "HS256", typ: "at+jwt" })
      .setIssuer(env.JWT_ISSUER)
      .setAudience(env.JWT_AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt()
      .setExpirationTime("1m")
      .sign(new TextEncoder().encode(env.JWT_SECRET));
    await rejection(noJti);
  });

  it("a refresh token in its place", async () => {
    const error = await rejection(generateOpaqueToken());
    expect(error.detail).toBe("The token is invalid.");
  });

  it("a payload changed after signing", async () => {
    const [header, , signature] = (await signAccessToken(env, user)).split(".");
    await rejection(`${header}.${b64({ ...claims(), role: "superuser" })}.${signature}`);
  });
});

describe("opaque refresh tokens", () => {
  it("are 256 random bits in base64url, stored as a SHA-256 hex digest", async () => {
    const token = generateOpaqueToken();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateOpaqueToken()).not.toBe(token);
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });
});
