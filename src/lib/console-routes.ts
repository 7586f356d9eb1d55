/**
 * The console's routes: the paths the Worker answers with the console's index.html (the SPA fallback in app.ts),
 * and the paths the console's router knows (console/src/routes.tsx is keyed by this list, so the two cannot drift).
 * `:name` matches one non-empty path segment. Every other path that is no file and no API route is a 404 problem.
 */
export const CONSOLE_ROUTES = [
  "/",
  "/sign-in",
  "/sign-up",
  "/forgot-password",
  "/reset-password",
  "/verify-email",
  "/account",
  "/tasks",
  "/tasks/new",
  "/tasks/:id",
  "/notifications",
  "/products",
  "/products/new",
  "/products/:sku",
  "/reports/views",
  "/users",
  "/users/new",
  "/users/:id",
  "/outbox",
  "/outbox/:id",
  "/sessions",
  "/sessions/:id",
  "/forbidden",
] as const;

export type ConsoleRoute = (typeof CONSOLE_ROUTES)[number];

const MAX_SEGMENT = 200;

/** The pattern's parameters when `path` matches it, else null. Segments are URL-decoded. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/");
  const got = path.split("/");
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    const g = got[i]!;
    if (w.startsWith(":")) {
      if (g === "" || g.length > MAX_SEGMENT) return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null; // a malformed escape is no route
      }
    } else if (w !== g) return null;
  }
  return params;
}

/** The console route `path` is (the first pattern that matches, fixed segments before parameters), or null. */
export function consoleRouteOf(path: string): { route: ConsoleRoute; params: Record<string, string> } | null {
  let found: { route: ConsoleRoute; params: Record<string, string> } | null = null;
  for (const route of CONSOLE_ROUTES) {
    const params = matchRoute(route, path);
    if (!params) continue;
    // "/tasks/new" wins over "/tasks/:id": the pattern with fewer parameters is the more specific one.
    if (!found || Object.keys(params).length < Object.keys(found.params).length) found = { route, params };
  }
  return found;
}
