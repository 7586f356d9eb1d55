/**
 * Absolute URLs the API hands out are built from PUBLIC_ORIGIN (wrangler.toml [vars]), never from the request's
 * Host header, which any client can forge (a poisoned cache or a phishing link would then carry its host). With
 * PUBLIC_ORIGIN empty the URL is relative: the page resolves it against its own location.
 */
export function publicOrigin(env: Pick<Env, "PUBLIC_ORIGIN">): URL | null {
  const value = (env.PUBLIC_ORIGIN ?? "").trim();
  if (!value) return null;
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url : null;
  } catch {
    return null;
  }
}

/** A WebSocket URL for `path` (absolute, starting with /): ws(s):// on PUBLIC_ORIGIN, or `path` itself. */
export function publicWebSocketUrl(env: Pick<Env, "PUBLIC_ORIGIN">, path: string): string {
  const origin = publicOrigin(env);
  if (!origin) return path;
  const url = new URL(path, origin);
  url.protocol = origin.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
