import { scrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  dummyPasswordHash,
  hashPassword,
  needsRehash,
  SCRYPT_MAXMEM,
  SCRYPT_PARAMS,
  verifyPassword,
} from "../../src/auth/passwords";

/** OWASP Password Storage Cheat Sheet, scrypt: equivalent rows (minimum CPU/memory cost N, block size r, parallelism p). */
const OWASP_ROWS = [
  { N: 2 ** 17, r: 8, p: 1 },
  { N: 2 ** 16, r: 8, p: 2 },
  { N: 2 ** 15, r: 8, p: 3 },
  { N: 2 ** 14, r: 8, p: 5 },
  { N: 2 ** 13, r: 8, p: 10 },
];

function scryptAsync(N: number, r: number, p: number, maxmem: number) {
  return new Promise<Buffer>((resolve, reject) =>
    scrypt("pw", "salt", 32, { N, r, p, maxmem }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

describe("scrypt parameters", { timeout: 30_000 }, () => {
  it("are an OWASP row", () => {
    const { N, r, p } = SCRYPT_PARAMS;
    expect(OWASP_ROWS).toContainEqual({ N, r, p });
    expect(SCRYPT_PARAMS.saltLength).toBeGreaterThanOrEqual(16);
    expect(SCRYPT_PARAMS.keyLength).toBeGreaterThanOrEqual(32);
  });

  it("fit inside node:crypto's default memory cap, which production Workers enforce", () => {
    const { N, r, p } = SCRYPT_PARAMS;
    // node:crypto's documented bound, and the exact BoringSSL accounting (V = N blocks, B = p blocks, one scratch).
    expect(128 * N * r).toBeLessThanOrEqual(SCRYPT_MAXMEM);
    expect(128 * r * (N + p + 1)).toBeLessThanOrEqual(SCRYPT_MAXMEM);
    expect(SCRYPT_MAXMEM).toBe(32 * 1024 * 1024);
    // Well inside the 128 MB a Worker isolate may use.
    expect(128 * N * r).toBeLessThanOrEqual(32 * 1024 * 1024);
  });

  it("the runtime really refuses parameters over the cap (so the check above is the one that matters)", async () => {
    await expect(scryptAsync(2 ** 16, 8, 1, SCRYPT_MAXMEM)).rejects.toThrow();
    await expect(scryptAsync(SCRYPT_PARAMS.N, SCRYPT_PARAMS.r, SCRYPT_PARAMS.p, SCRYPT_MAXMEM)).resolves.toHaveLength(
      32,
    );
  });
});

describe("hash and verify", { timeout: 30_000 }, () => {
  it("stores the parameters and a per-user salt with the hash", async () => {
    const a = await hashPassword("same password");
    const b = await hashPassword("same password");
    expect(a).toMatch(/^scrypt\$16384\$8\$5\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("same password", a)).toBe(true);
    expect(await verifyPassword("same password", b)).toBe(true);
    expect(await verifyPassword("same passworD", a)).toBe(false);
    expect(needsRehash(a)).toBe(false);
  });

  it("normalizes Unicode, so the same password typed differently verifies", async () => {
    const composed = "caf\u00e9-password";
    const decomposed = "cafe\u0301-password";
    expect(await verifyPassword(decomposed, await hashPassword(composed))).toBe(true);
  });

  it("still verifies a hash made with weaker parameters, and asks for a rehash", async () => {
    const key = await new Promise<Buffer>((resolve, reject) =>
      scrypt("old".normalize("NFC"), Buffer.from("0123456789abcdef"), 32, { N: 1024, r: 8, p: 1 }, (e, k) =>
        e ? reject(e) : resolve(k),
      ),
    );
    const stored = [
      "scrypt",
      1024,
      8,
      1,
      Buffer.from("0123456789abcdef").toString("base64"),
      key.toString("base64"),
    ].join("$");
    expect(await verifyPassword("old", stored)).toBe(true);
    expect(needsRehash(stored)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["another scheme", "pbkdf2$100000$c2FsdA==$aGFzaA=="],
    ["a disabled account", "!deleted"],
    ["non-numeric parameters", "scrypt$x$8$5$c2FsdA==$aGFzaA=="],
    ["parameters over the memory cap", "scrypt$1048576$8$1$c2FsdA==$aGFzaA=="],
    ["an empty key", "scrypt$16384$8$5$c2FsdA==$"],
  ])("a stored value that is %s never verifies and never throws", async (_label, stored) => {
    await expect(verifyPassword("anything", stored)).resolves.toBe(false);
  });

  it("the dummy hash for unknown emails is a real hash at the current parameters, computed once", async () => {
    const dummy = await dummyPasswordHash();
    expect(dummy).toBe(await dummyPasswordHash());
    expect(needsRehash(dummy)).toBe(false);
    expect(await verifyPassword("guess", dummy)).toBe(false);
  });
});
