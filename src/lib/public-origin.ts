import { type SettingsSource, settings } from "./settings";

/**
 * Absolute URLs the API hands out are built from PUBLIC_ORIGIN (wrangler.toml [vars]), never from the request's
 * Host header, which any client can forge (a poisoned cache or a phishing link would then carry its host). With
 * PUBLIC_ORIGIN empty the URL is relative: the page resolves it against its own location.
 */
export function publicOrigin(env: SettingsSource): URL | null {
  const value = settings(env).publicOrigin;
  return value === null ? null : new URL(value);
}

/** A WebSocket URL for `path` (absolute, starting with /): ws(s):// on PUBLIC_ORIGIN, or `path` itself. */
export function publicWebSocketUrl(env: SettingsSource, path: string): string {
  const origin = publicOrigin(env);
  if (!origin) return path;
  const url = new URL(path, origin);
  url.protocol = origin.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}
