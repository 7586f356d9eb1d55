import createClient from "openapi-fetch";
import type { paths } from "./schema";

/**
 * The one way the console talks to the API: openapi-fetch typed from the app's own OpenAPI document, sending the
 * session cookies (same origin), the `X-Console: 1` header the API requires before it takes a cookie as the
 * credential, and, on a 401, one `POST /auth/session/refresh` (the refresh cookie rotates) and one retry. When the
 * refresh fails too, the session listener hears it and the router sends the person to /sign-in?next=<this page>.
 * No token is ever readable here: the cookies are HttpOnly, and the session routes answer no token in a body.
 */

export const CONSOLE_HEADER = "X-Console";

/** Answers that mean "not signed in": anything else a 401 from them says is about the input, not the session. */
const NO_REFRESH = new Set(["/api/v1/auth/session", "/api/v1/auth/session/refresh", "/api/v1/auth/session/register"]);

type Listener = () => void;
const signedOutListeners = new Set<Listener>();

/** Called when the session has ended (a 401 that a refresh could not cure). Returns the unsubscribe function. */
export function onSignedOut(listener: Listener): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

let refreshing: Promise<boolean> | null = null;
/** Successful refreshes so far: a 401 to a request sent before the latest one is answered by a retry alone. */
let refreshes = 0;

/** One refresh at a time: every call that got a 401 while one runs waits for the same answer. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch("/api/v1/auth/session/refresh", {
    method: "POST",
    credentials: "same-origin",
    headers: { [CONSOLE_HEADER]: "1" },
  })
    .then(async (response) => {
      await response.body?.cancel();
      if (response.ok) refreshes += 1;
      return response.ok;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function consoleFetch(request: Request): Promise<Response> {
  request.headers.set(CONSOLE_HEADER, "1");
  const retry = request.clone();
  const sentAfter = refreshes;
  const response = await fetch(request);
  const path = new URL(request.url).pathname;
  if (response.status !== 401 || NO_REFRESH.has(path)) return response;
  // Sent with the old cookie while another call's refresh ran: the cookie is new already, a retry is all it needs.
  if (refreshes !== sentAfter || (await refreshSession())) {
    await response.body?.cancel();
    return fetch(retry);
  }
  for (const listener of signedOutListeners) listener();
  return response;
}

export const api = createClient<paths>({
  baseUrl: "",
  credentials: "same-origin",
  fetch: consoleFetch,
  // status=todo,in_progress is one parameter the API reads as a list (it takes repeated ones too).
  querySerializer: { array: { style: "form", explode: false } },
});
