/** The challenge every 401 of a token-taking route carries (RFC 6750 §3). */
export const WWW_AUTHENTICATE = { "WWW-Authenticate": 'Bearer realm="edge-backoffice"' };

/**
 * The token of an `Authorization: Bearer <token>` header (scheme case-insensitive, RFC 7235), or null when the
 * header is missing or says anything else. Access tokens and cursor session tokens are both read with it.
 */
export function bearerToken(header: string | undefined): string | null {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
}
