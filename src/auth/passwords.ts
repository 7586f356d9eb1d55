import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

// scripts/seed.mjs runs this module in Node directly: it imports nothing of the app's own.

/**
 * scrypt at an OWASP Password Storage Cheat Sheet row: N=2^14, r=8, p=5 (16 MiB, same cost as N=2^17 p=1 in CPU,
 * an eighth of the memory). Not PBKDF2: production Workers cap it at 100,000 iterations, far under OWASP's 600,000.
 * The parameters are stored with each hash (`scrypt$N$r$p$salt$hash`) so they can be raised later; a stored hash
 * with weaker parameters still verifies, and `needsRehash` says when to upgrade it at the next login.
 */
export const SCRYPT_PARAMS = { N: 2 ** 14, r: 8, p: 5, keyLength: 32, saltLength: 16 } as const;

/** node:crypto's default memory cap for scrypt (32 MiB); 128 * N * r must stay under it in production Workers. */
export const SCRYPT_MAXMEM = 32 * 1024 * 1024;

type Params = { N: number; r: number; p: number; keyLength: number };

function derive(password: string, salt: Buffer, params: Params): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      params.keyLength,
      { N: params.N, r: params.r, p: params.p, maxmem: SCRYPT_MAXMEM },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SCRYPT_PARAMS.saltLength);
  const key = await derive(password, salt, SCRYPT_PARAMS);
  const { N, r, p } = SCRYPT_PARAMS;
  return ["scrypt", N, r, p, salt.toString("base64"), key.toString("base64")].join("$");
}

function parse(stored: string) {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return null;
  const key = Buffer.from(hash, "base64");
  return { N: Number(n), r: Number(r), p: Number(p), keyLength: key.length, salt: Buffer.from(salt, "base64"), key };
}

/** A stored hash that is malformed or asks for more memory than the cap never verifies (and never throws a 500). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || parsed.key.length === 0) return false;
  try {
    const key = await derive(password, parsed.salt, parsed);
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

export function needsRehash(stored: string): boolean {
  const parsed = parse(stored);
  return !parsed || parsed.N < SCRYPT_PARAMS.N || parsed.r < SCRYPT_PARAMS.r || parsed.p < SCRYPT_PARAMS.p;
}

let dummyHash: Promise<string> | undefined;
/**
 * A hash to verify against when the account does not exist, so an unknown email costs the same scrypt work as a
 * wrong password (no user enumeration by timing).
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword("not-a-real-password-only-for-equal-timing");
  return dummyHash;
}
