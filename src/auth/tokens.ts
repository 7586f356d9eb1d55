import { z } from "@hono/zod-openapi";
import { errors, jwtVerify, SignJWT } from "jose";
import { ROLES, type Role } from "../db/schema";
import { ApiError } from "../lib/errors";
import { settings } from "../lib/settings";

export const ACCESS_TOKEN_TYPE = "at+jwt";
const CLOCK_TOLERANCE_SECONDS = 5;
const ALGORITHM = "HS256";

/**
 * The HMAC key, imported once per secret and isolate: given raw bytes, jose imports a CryptoKey on every sign and
 * verify, which is most of what verifying a token costs on each signed-in request.
 */
const keyCache = new Map<string, Promise<CryptoKey>>();
function signingKey(env: Env): Promise<CryptoKey> {
  let key = keyCache.get(env.JWT_SECRET);
  if (!key) {
    key = crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(env.JWT_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    );
    // A failed import is not kept: the next call tries again.
    key.catch(() => keyCache.delete(env.JWT_SECRET));
    keyCache.set(env.JWT_SECRET, key);
  }
  return key;
}

export type SignOptions = {
  /** JOSE header `typ`, pinned again at verification so one kind of token cannot stand in for another. */
  typ: string;
  subject: string;
  ttlSeconds: number;
  audience?: string;
  claims?: Record<string, unknown>;
  now?: number;
};

/** HS256 JWT with iss, aud, sub, iat, exp and a fresh jti. */
export async function signJwt(env: Env, options: SignOptions): Promise<string> {
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  return new SignJWT(options.claims ?? {})
    .setProtectedHeader({ alg: ALGORITHM, typ: options.typ })
    .setIssuer(settings(env).jwtIssuer)
    .setAudience(options.audience ?? settings(env).jwtAudience)
    .setSubject(options.subject)
    .setIssuedAt(now)
    .setExpirationTime(now + options.ttlSeconds)
    .setJti(crypto.randomUUID())
    .sign(await signingKey(env));
}

/**
 * Verifies with algorithm, issuer, audience and type pinned (RFC 8725). Any failure is a 401 whose detail says
 * only what a client can act on (expired or invalid), never which check failed.
 */
export async function verifyJwt(
  env: Env,
  token: string,
  expected: { typ: string; audience?: string; requiredClaims?: string[] },
) {
  try {
    const { payload } = await jwtVerify(token, await signingKey(env), {
      algorithms: [ALGORITHM],
      issuer: settings(env).jwtIssuer,
      audience: expected.audience ?? settings(env).jwtAudience,
      typ: expected.typ,
      requiredClaims: ["sub", "iat", "exp", "jti", ...(expected.requiredClaims ?? [])],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    // jose checks `iat` only when a maximum age is given; a token issued in the future was not issued by us.
    if (typeof payload.iat !== "number" || payload.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) {
      throw new errors.JWTClaimValidationFailed('"iat" claim is in the future', payload, "iat", "check_failed");
    }
    return payload;
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw new ApiError("unauthorized", "The token has expired.");
    throw new ApiError("unauthorized", "The token is invalid.");
  }
}

export function accessTokenTtl(env: Env): number {
  return settings(env).accessTokenTtlSeconds;
}

/**
 * Claims checked after the signature: a correctly signed token whose claims are not what we issue (a `sub` that is an
 * array, a `role` that is no role, a `ver` that is a string) is a 401 like any invalid token, never a value that
 * reaches a query. Each kind of token has its schema; the registered claims jose already checked are not repeated.
 */
const Id = z.guid();
const TokenId = z.string().min(1).max(64);
const AccessClaims = z.object({
  sub: Id,
  role: z.enum(ROLES),
  ver: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  jti: TokenId,
  /** The sign-in (refresh family) the token belongs to: ending that sign-in ends the token. */
  sid: Id.optional(),
});

/** The payload's claims by `schema`, or the same 401 as any other invalid token. */
export function checkedClaims<T extends z.ZodType>(schema: T, payload: unknown): z.output<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new ApiError("unauthorized", "The token is invalid.");
  return parsed.data;
}

/**
 * `ver` is the user's token version when the token was signed, and `sid` the sign-in it belongs to; require-auth
 * compares both with the database, so bumping the version ends every access token signed before, and ending the
 * sign-in (logout, a reused refresh token) ends its own at once.
 */
export function signAccessToken(
  env: Env,
  user: { id: string; role: Role; tokenVersion?: number },
  now?: number,
  sessionId?: string,
) {
  return signJwt(env, {
    typ: ACCESS_TOKEN_TYPE,
    subject: user.id,
    ttlSeconds: accessTokenTtl(env),
    claims: { role: user.role, ver: user.tokenVersion ?? 0, ...(sessionId ? { sid: sessionId } : {}) },
    now,
  });
}

export async function verifyAccessToken(env: Env, token: string) {
  const payload = await verifyJwt(env, token, { typ: ACCESS_TOKEN_TYPE, requiredClaims: ["role", "ver"] });
  const claims = checkedClaims(AccessClaims, payload);
  return {
    userId: claims.sub,
    role: claims.role,
    version: claims.ver,
    jti: claims.jti,
    sessionId: claims.sid ?? null,
  };
}

/** An opaque 256-bit refresh token (base64url); only its SHA-256 hash is stored. */
export function generateOpaqueToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

export async function sha256Hex(value: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(value));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
