/**
 * Account mails carry a live single-use token (verification, password reset). The outbox keeps what was mailed for
 * admins to read, so the token is not written into the bodies: they hold {@link WITHHELD} where it goes, and the
 * token itself is stored encrypted for the mail consumer (AES-GCM under a key derived from JWT_SECRET with HKDF), put
 * into the mail only when it is sent, and erased from the row once the row is done with. Whoever reads a backup of
 * the database, or the outbox through the API, never holds a working link.
 */
export const WITHHELD = "[withheld: a single-use account token, readable only by its recipient]";

const INFO = new TextEncoder().encode("edge-backoffice outbox account token");
const keys = new Map<string, Promise<CryptoKey>>();

function sealingKey(env: Env): Promise<CryptoKey> {
  let key = keys.get(env.JWT_SECRET);
  if (!key) {
    key = crypto.subtle
      .importKey("raw", new TextEncoder().encode(env.JWT_SECRET), "HKDF", false, ["deriveKey"])
      .then((base) =>
        crypto.subtle.deriveKey(
          { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(32), info: INFO },
          base,
          { name: "AES-GCM", length: 256 },
          false,
          ["encrypt", "decrypt"],
        ),
      );
    key.catch(() => keys.delete(env.JWT_SECRET));
    keys.set(env.JWT_SECRET, key);
  }
  return key;
}

const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");

const fromBase64Url = (text: string) =>
  Uint8Array.from(atob(text.replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));

/** `token` encrypted for the consumer: base64url(12-byte IV ‖ ciphertext and tag). */
export async function sealToken(env: Env, token: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await sealingKey(env), new TextEncoder().encode(token)),
  );
  const out = new Uint8Array(iv.length + sealed.length);
  out.set(iv);
  out.set(sealed, iv.length);
  return toBase64Url(out);
}

/** The token back, or null when it cannot be opened (another JWT_SECRET, a damaged value). */
export async function openToken(env: Env, sealed: string): Promise<string | null> {
  try {
    const bytes = fromBase64Url(sealed);
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.slice(0, 12) },
      await sealingKey(env),
      bytes.slice(12),
    );
    return new TextDecoder().decode(plain);
  } catch {
    return null;
  }
}

/** The bodies as sent: the placeholder replaced by the token (the HTML escapes nothing in either). */
export function unseal<T extends { text: string; html: string }>(bodies: T, token: string): T {
  return { ...bodies, text: bodies.text.replaceAll(WITHHELD, token), html: bodies.html.replaceAll(WITHHELD, token) };
}
